/**
 * The Cloudflare Worker as deployed: runtimes/cloudflare/worker.ts bundled, running in real
 * workerd (Miniflare) with a local R2 bucket, configured through vars like wrangler.toml's.
 */
import { startWorker } from "../workers/bundle.ts";
import { authVars } from "./auth-args.ts";
import type { Target, TargetOptions } from "./index.ts";

export async function createWorkerTarget(options: TargetOptions): Promise<Target> {
  const { auth } = options;
  const vars: Record<string, string | undefined> = {
    ...authVars(auth),
    BERTH_UPLOAD_EXPIRY: options.uploadExpiryMs === undefined ? undefined : String(options.uploadExpiryMs / 1000),
    BERTH_MAX_MANIFEST_BYTES: options.maxManifestBytes === undefined ? undefined : String(options.maxManifestBytes),
  };
  const bindings = Object.fromEntries(Object.entries(vars).filter((entry): entry is [string, string] => entry[1] !== undefined));
  const worker = await startWorker("runtimes/cloudflare/worker.ts", bindings);
  return {
    name: "worker",
    baseUrl: worker.url,
    async fetch(path, init = {}) {
      const streaming = init.body instanceof ReadableStream;
      return fetch(worker.url + path, { redirect: "manual", ...init, ...(streaming ? { duplex: "half" } : {}) } as RequestInit);
    },
    close: () => worker.close(),
  };
}
