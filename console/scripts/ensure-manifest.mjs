// relay-compiler's local persisting adds to an existing manifest file; a fresh checkout has
// none, so start it empty. (The file is a build output, not committed.)
import { existsSync, writeFileSync } from "node:fs";

const manifest = new URL("../persisted-documents.json", import.meta.url);
if (!existsSync(manifest)) writeFileSync(manifest, "{}\n");
