// relay-compiler persists a document only when it writes that document's artifact, into the
// manifest file it finds (a fresh checkout has none). So each full compile starts clean: no
// generated artifacts and an empty manifest, and the manifest then holds exactly the page's
// documents now. (Both are build outputs: not committed.)
import { readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

function removeGenerated(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const path = join(dir, entry.name);
    if (entry.name === "__generated__") rmSync(path, { recursive: true, force: true });
    else removeGenerated(path);
  }
}

removeGenerated(join(root, "src"));
writeFileSync(join(root, "persisted-documents.json"), "{}\n");
