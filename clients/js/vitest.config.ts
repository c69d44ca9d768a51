import { svelte } from "@sveltejs/vite-plugin-svelte";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [svelte({ compilerOptions: { runes: undefined } })],
  resolve: { conditions: ["browser"] },
  test: {
    include: ["tests/**/*.test.{ts,tsx}"],
    environment: "happy-dom",
    // The machine is shared: keep to one worker.
    pool: "threads",
    maxWorkers: 1,
    fileParallelism: false,
  },
});
