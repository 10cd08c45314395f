#!/usr/bin/env node
// The `berth` command: the Node runtime bundled into dist/bundle/ (scripts/bundle-cli.mjs),
// plain JavaScript with no loader; one module instead of ~95 starts faster and holds less.
// `npm run build` writes dist/; `npm ci` in a checkout and `npm pack` run it (the prepare script).
import { existsSync } from "node:fs";

const CLI = new URL("../dist/bundle/cli.js", import.meta.url);
if (!existsSync(CLI)) {
  console.error("berth: dist/ is missing; in a git checkout run `npm ci` or `npm run build` first");
  process.exit(1);
}
const { main } = await import(CLI.href);
main(process.argv.slice(2)).catch((error) => {
  console.error(`berth: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
});
