/**
 * The Cloudflare Worker as deployed: runtimes/cloudflare/worker.ts bundled, running in real
 * workerd (Miniflare) with a local R2 bucket, configured through vars like wrangler.toml's.
 */
import { formatGcReport, type GcReport } from "../../src/index.ts";
import { startWorker } from "../workers/bundle.ts";
import { authVars } from "./auth-args.ts";
import { socketTarget, type Target, type TargetOptions } from "./index.ts";

export async function createWorkerTarget(options: TargetOptions): Promise<Target> {
  const { auth, lifecycle } = options;
  const fromAuth = authVars(auth);
  // One BERTH_CONFIG holds every file-only setting: trusted issuers (auth) and retention (lifecycle).
  const file = { ...(fromAuth.BERTH_CONFIG ? JSON.parse(fromAuth.BERTH_CONFIG) : {}), ...(lifecycle?.retention ? { retention: lifecycle.retention } : {}) };
  const vars: Record<string, string | undefined> = {
    ...fromAuth,
    // workerd prints console output into the test run; the access line is tested on Node and Deno.
    BERTH_ACCESS_LOG: process.env.BERTH_TARGET_LOGS ? undefined : "false",
    BERTH_UPLOAD_EXPIRY: options.uploadExpiryMs === undefined ? undefined : String(options.uploadExpiryMs / 1000),
    BERTH_MAX_MANIFEST_BYTES: options.maxManifestBytes === undefined ? undefined : String(options.maxManifestBytes),
    BERTH_GC_GRACE: lifecycle?.grace,
    BERTH_GC_DELETE_UNTAGGED: lifecycle?.deleteUntagged ? "true" : undefined,
    BERTH_DELETE: lifecycle?.noDelete ? "false" : undefined,
    BERTH_CONFIG: Object.keys(file).length ? JSON.stringify(file) : undefined,
    BERTH_UPSTREAM: options.upstreams?.join(","),
    BERTH_UPSTREAM_TAG_TTL: options.upstreamTagTtlSeconds === undefined ? undefined : `${options.upstreamTagTtlSeconds}s`,
  };
  const bindings = Object.fromEntries(Object.entries(vars).filter((entry): entry is [string, string] => entry[1] !== undefined));
  const worker = await startWorker("runtimes/cloudflare/worker.ts", bindings);
  return {
    ...socketTarget("worker", worker.url, () => worker.close()),
    // Cron events, as Cloudflare sends them, until the stored state says a collection begun now has finished.
    async lifecycle(command, flags = []) {
      if (command !== "gc" || flags.length) throw new Error("worker target: only `gc` (the Cron handler), with the target's options");
      const begun = Date.now();
      const fetcher = await worker.miniflare.getWorker();
      const bucket = await worker.miniflare.getR2Bucket("BUCKET");
      for (let slice = 0; slice < 1000; slice++) {
        await fetcher.scheduled({ cron: "*/5 * * * *" });
        const object = await bucket.get("gc/state.json");
        const state = object ? ((await object.json()) as { phase: string; startedAt: number; report: GcReport }) : undefined;
        if (state && state.phase === "done" && state.startedAt >= begun - 1000) return formatGcReport(state.report);
      }
      throw new Error("worker target: garbage collection did not finish in 1000 slices");
    },
  };
}
