import { fileURLToPath } from "node:url";
import { svelte } from "@sveltejs/vite-plugin-svelte";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

// The demo the gateway serves at `/`: index.html (React) and svelte.html (Svelte), with
// relative asset paths so that it works from any directory given to `serve --static`.
export default defineConfig({
  root: here("."),
  base: "./",
  plugins: [react(), svelte()],
  resolve: {
    alias: [
      { find: /^@forrealtime\/client\/react$/, replacement: here("../src/react.ts") },
      { find: /^@forrealtime\/client\/svelte$/, replacement: here("../src/svelte.ts") },
      { find: /^@forrealtime\/client$/, replacement: here("../src/index.ts") },
    ],
  },
  build: {
    outDir: here("dist"),
    emptyOutDir: true,
    rolldownOptions: {
      input: {
        index: here("index.html"),
        svelte: here("svelte.html"),
        original: here("original.html"),
        tabs: here("tabs.html"),
      },
    },
  },
  logLevel: "warn",
});
