import viteReact from "@vitejs/plugin-react";
import { tanstackStart } from "@tanstack/react-start/plugin/vite";
import { defineConfig } from "vite";

export default defineConfig({
  plugins: [
    // `node-server`: `vite build` writes .output/server/index.mjs, a plain Node server
    // (PORT and HOST from the environment).
    tanstackStart({ customViteReactPlugin: true, target: "node-server" }),
    viteReact(),
  ],
});
