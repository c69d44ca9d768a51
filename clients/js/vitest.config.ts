import { readFile } from "node:fs/promises";
import { svelte } from "@sveltejs/vite-plugin-svelte";
import type { Plugin } from "vite";
import { defineConfig } from "vitest/config";

// The Svelte binding is tested twice: with Svelte 5 (the plugin), and with Svelte 4
// (`svelte4`, an npm alias), whose compiler is run by the small plugin below and whose
// runtime replaces `svelte` for that project.
function svelte4(): Plugin {
  return {
    name: "svelte4-compile",
    async load(id) {
      if (!id.endsWith(".svelte")) return null;
      // Typed by hand: svelte4's own declarations describe the module "svelte/compiler".
      const compilerId: string = "svelte4/compiler";
      const { compile } = (await import(compilerId)) as {
        compile(source: string, options: object): { js: { code: string; map: any } };
      };
      const source = await readFile(id, "utf8");
      const out = compile(source, { filename: id, generate: "dom", css: "injected" });
      return { code: out.js.code, map: out.js.map };
    },
  };
}

export default defineConfig({
  test: {
    // The machine is shared: one worker, one file at a time.
    maxWorkers: 1,
    fileParallelism: false,
    projects: [
      {
        plugins: [svelte()],
        resolve: { conditions: ["browser"] },
        test: {
          name: "unit",
          include: ["tests/**/*.test.{ts,tsx}"],
          exclude: ["tests/svelte4/**"],
          environment: "happy-dom",
        },
      },
      {
        plugins: [svelte4()],
        resolve: {
          conditions: ["browser"],
          alias: [
            { find: /^svelte$/, replacement: "svelte4" },
            { find: /^svelte\/(.*)$/, replacement: "svelte4/$1" },
          ],
        },
        test: {
          name: "svelte4",
          include: ["tests/svelte4/**/*.test.ts"],
          environment: "happy-dom",
          server: { deps: { inline: ["svelte4"] } },
        },
      },
    ],
  },
});
