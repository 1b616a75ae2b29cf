// Builds the API Settings page into dist/, which the server serves at `/`.
// `npm run dev` serves it with hot reload and proxies /graphql (HTTP and WebSocket) to a
// running `make run`, so the page talks to a real API while you edit it.
import { copyFileSync } from "node:fs";
import { resolve } from "node:path";
import { defineConfig, type Plugin } from "vite";
import react from "@vitejs/plugin-react";

const api = process.env.SWITCHBOARD_API ?? "http://127.0.0.1:8000";

// relay-compiler writes the manifest of the page's documents (ID -> text) beside this file;
// the server loads it from dist/, next to the build whose requests name those IDs.
function persistedDocuments(): Plugin {
  return {
    name: "switchboard-persisted-documents",
    apply: "build",
    closeBundle() {
      copyFileSync(
        resolve(__dirname, "persisted-documents.json"),
        resolve(__dirname, "dist", "persisted-documents.json"),
      );
    },
  };
}

export default defineConfig({
  plugins: [react({ babel: { plugins: [["relay", { eagerEsModules: true }]] } }), persistedDocuments()],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 1000 },
  server: {
    port: 5173,
    strictPort: true,
    proxy: { "/graphql": { target: api, ws: true, changeOrigin: true } },
  },
});
