/**
 * Vitest global setup: compile dist/ (and bundle the CLI, scripts/bundle-cli.mjs) before any test runs. The node target, the e2e
 * launchers and the package test run `bin/berth.mjs`, which loads dist/ (what users run);
 * building first means they never test a dist/ older than the sources. Tests themselves
 * import the .ts sources. ~2 s. Unlike `npm run build` it does not empty dist/ first, so a
 * server still running from dist/ (another test run in this checkout) keeps its files.
 */
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

// Each vitest project runs this global setup (as a module instance of its own); one build serves all.
const BUILT = Symbol.for("berth.dist-built");

export default function buildDist(): void {
  const state = globalThis as { [BUILT]?: boolean };
  if (state[BUILT]) return;
  state[BUILT] = true;
  const root = fileURLToPath(new URL("..", import.meta.url));
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  execFileSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: root, stdio: "inherit" });
  execFileSync(process.execPath, ["scripts/bundle-cli.mjs"], { cwd: root, stdio: "inherit" });
}
