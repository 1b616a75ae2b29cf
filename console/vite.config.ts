// Builds the API Settings page into dist/, which the server serves at `/`.
// `npm run dev` serves it with hot reload and proxies /graphql (HTTP and WebSocket) to a
// running `make run`, so the page talks to a real API while you edit it.
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

const api = process.env.SWITCHBOARD_API ?? "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [react({ babel: { plugins: [["relay", { eagerEsModules: true }]] } })],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 1000 },
  server: {
    port: 5173,
    strictPort: true,
    proxy: { "/graphql": { target: api, ws: true, changeOrigin: true } },
  },
});
