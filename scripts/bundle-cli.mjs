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
// - the npm dependencies, imported from node_modules as before (yaml and bcryptjs load only
//   on first use; yaml is CommonJS, which an ES module bundle could not `require` its node:
//   imports from), except the two small ES module packages every request uses: itty-router and
//   @noble/hashes go into the bundle (5 modules fewer to resolve through package.json
//   "exports": ~0.005 CPU-s and 0.4 MiB at start-up, measured with bench/tools/ab-startup.ts).
// Not minified: stack traces keep readable names (minifying saved no measurable time).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BUNDLE_DIR = "dist/bundle";
/** Bundled; every other dependency (a new one too) stays an import from node_modules. */
const BUNDLED_PACKAGES = ["itty-router", "@noble/hashes"];
const { dependencies } = JSON.parse(readFileSync(`${ROOT}/package.json`, "utf8"));
const external = Object.keys(dependencies).filter((name) => !BUNDLED_PACKAGES.includes(name));

async function bundleCli() {
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
    external,
    logLevel: "warning",
  });
}

await bundleCli();
