/**
 * Builds Worker scripts for tests and runs them in real workerd through Miniflare, with a
 * local R2 bucket, listening on 127.0.0.1. Node side only.
 */
import { readFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { Log, LogLevel, Miniflare } from "miniflare";

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));

// wrangler.toml is the one source of the compatibility settings tests run with.
const WRANGLER_TOML = readFileSync(join(REPO_ROOT, "wrangler.toml"), "utf8");
const COMPATIBILITY_DATE = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(WRANGLER_TOML)![1]!;
const COMPATIBILITY_FLAGS = [.../^compatibility_flags\s*=\s*\[([^\]]*)\]/m.exec(WRANGLER_TOML)![1]!.matchAll(/"([^"]+)"/g)].map((m) => m[1]!);

const bundles = new Map<string, Promise<string>>();

/** Bundle `entry` (repo-relative) as wrangler would: ESM, node:* left to nodejs_compat. Once per process. */
export function bundleWorker(entry: string): Promise<string> {
  let bundle = bundles.get(entry);
  if (!bundle) {
    bundle = (async () => {
      const outfile = join(await mkdtemp(join(tmpdir(), "berth-worker-")), "worker.mjs");
      await build({
        entryPoints: [join(REPO_ROOT, entry)],
        outfile,
        bundle: true,
        format: "esm",
        platform: "neutral",
        target: "es2022",
        mainFields: ["module", "main"],
        conditions: ["workerd", "worker", "import"],
        external: ["node:*"],
        alias: { crypto: "node:crypto" }, // bcryptjs's fallback import; wrangler maps it the same way
        logLevel: "error",
      });
      return outfile;
    })();
    bundles.set(entry, bundle);
  }
  return bundle;
}

export interface RunningWorker {
  url: string;
  miniflare: Miniflare;
  close(): Promise<void>;
}

/**
 * Run a bundled Worker in workerd with an R2 bucket bound as BUCKET (in memory unless
 * `persistTo`; none with `withBucket` false: a store whose every call fails).
 */
export async function startWorker(entry: string, bindings: Record<string, string> = {}, persistTo?: string, withBucket = true, onOutput?: (line: string) => void): Promise<RunningWorker> {
  process.env.WRANGLER_SEND_METRICS ??= "false";
  const scriptPath = await bundleWorker(entry);
  const miniflare = new Miniflare({
    scriptPath,
    modules: true,
    modulesRoot: dirname(scriptPath),
    compatibilityDate: COMPATIBILITY_DATE,
    compatibilityFlags: COMPATIBILITY_FLAGS,
    // What the Worker prints (console.log/error), line by line, for tests that read its logs.
    ...(onOutput && {
      handleRuntimeStdio(stdout: NodeJS.ReadableStream, stderr: NodeJS.ReadableStream) {
        for (const stream of [stdout, stderr]) {
          let rest = "";
          stream.setEncoding("utf8");
          stream.on("data", (chunk: string) => {
            const lines = (rest + chunk).split("\n");
            rest = lines.pop()!;
            for (const line of lines) onOutput(line);
          });
        }
      },
    }),
    r2Buckets: withBucket ? ["BUCKET"] : [],
    r2Persist: persistTo ?? false,
    bindings,
    host: "127.0.0.1",
    port: 0,
    cf: false, // offline: no request.cf fetched from Cloudflare
    log: new Log(process.env.BERTH_TARGET_LOGS ? LogLevel.DEBUG : LogLevel.WARN),
  });
  const url = (await miniflare.ready).origin;
  return { url, miniflare, close: () => miniflare.dispose() };
}
