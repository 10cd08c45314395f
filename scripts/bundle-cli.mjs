// Bundles the `berth` command (runtimes/node/cli.ts and everything it imports statically) into
// dist/bundle/cli.js, the file bin/berth.mjs runs. `npm run build` and the test setup
// (test/build-dist.ts) run it after tsc.
//
// Why: Node's ES module loader costs more per module than the code in it. Started from ~95
// separate dist/ files, `berth serve` spent ~0.08 CPU-s resolving, reading and linking them
// and held ~6 MiB more (README, Performance, "Start-up and idle memory").
//
// What stays separate, so start-up still loads only what serving needs:
// - the modules reached only through `import()` (the S3 store, the GC commands): own chunks,
//   loaded when a bucket or `gc` needs them (test/startup-imports.test.ts reads the
//   `// src/...` module markers esbuild writes into each chunk);
// - the npm dependencies (`packages: "external"`): imported from node_modules as before,
//   so yaml and bcryptjs still load only on first use, and the package's dependencies stay
//   the code that runs.
// Not minified: stack traces keep readable names (minifying saved no measurable time).
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const BUNDLE_DIR = "dist/bundle";

export async function bundleCli() {
  // dist/bundle/ is not emptied first: `npm run build` empties dist/, and the test setup keeps
  // the chunks a server still running from this checkout may import later (content-hashed names).
  await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: ["runtimes/node/cli.ts"],
    outdir: BUNDLE_DIR,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    packages: "external",
    logLevel: "warning",
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await bundleCli();
