// Copies the one TextMate grammar (grammar/route.tmLanguage.json at the
// repository root) into this extension, which can only ship files inside
// its own folder. The copy is generated; edit the original.
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const source = join(here, "..", "..", "..", "grammar", "route.tmLanguage.json");
const target = join(here, "..", "syntaxes", "route.tmLanguage.json");
mkdirSync(dirname(target), { recursive: true });
copyFileSync(source, target);
