/** The registry core called directly: createRegistry + MemoryStore, no socket. */
import { createRegistry, gcOptionsFrom, MemoryStore, parseArgv, resolveConfig, runLifecycleCommand, startGcSchedule } from "../../src/index.ts";
import { checkUpstreams } from "../../src/proxy/upstreams.ts";
import type { Target, TargetOptions } from "./index.ts";
import { lifecycleArgs } from "./lifecycle-args.ts";

export const IN_PROCESS_ORIGIN = "http://registry.test";

export async function createInProcessTarget(options: TargetOptions): Promise<Target> {
  const store = new MemoryStore();
  const { lifecycle, upstreams, upstreamTagTtlSeconds, ...registryOptions } = options;
  const args = lifecycleArgs(lifecycle);
  const proxy = upstreams?.length ? { upstreams: checkUpstreams(upstreams, "upstreams"), tagTtlMs: upstreamTagTtlSeconds === undefined ? undefined : upstreamTagTtlSeconds * 1000 } : undefined;
  // The htpasswd and policy "files" live here; the registry re-reads them as it would files.
  const files: { htpasswd?: string; policy?: string } = {
    htpasswd: options.auth?.htpasswd,
    policy: typeof options.auth?.policy === "string" ? options.auth.policy : undefined,
  };
  const read = (which: "htpasswd" | "policy") => (files[which] === undefined ? undefined : async () => files[which]!);
  const auth = options.auth?.htpasswd === undefined ? options.auth : { ...options.auth, reload: { htpasswd: read("htpasswd"), policy: read("policy"), intervalMs: options.auth.reload?.intervalMs } };
  const registry = createRegistry({ store, ...registryOptions, auth, deletes: !lifecycle?.noDelete, proxy });
  // lifecycle.interval: the schedule `serve --gc-interval` runs, reporting to this registry's metrics.
  const file = args.configText ? { text: args.configText, name: "config.json" } : undefined;
  const served = await resolveConfig({ flags: parseArgv(["serve", ...args.serve]).flags, file });
  const schedule = served.gc.interval > 0 ? startGcSchedule(store, gcOptionsFrom(served), served.gc.interval, () => {}, registry.gcObserver) : undefined;
  return {
    name: "in-process",
    async writeAuthFile(which, text) {
      if (files[which] === undefined) throw new Error(`in-process target: started without a ${which}`);
      files[which] = text;
    },
    hangUp: () => registry.reload(),
    async fetch(path, init = {}) {
      const streaming = init.body instanceof ReadableStream;
      const request = new Request(IN_PROCESS_ORIGIN + path, {
        ...init,
        ...(streaming ? { duplex: "half" } : {}),
      } as RequestInit);
      return registry.fetch(request);
    },
    async lifecycle(command, flags = []) {
      const parsed = parseArgv([command, ...(command === "gc" ? args.gc : []), ...flags]);
      const config = await resolveConfig({ flags: parsed.flags, file });
      if (options.uploadExpiryMs !== undefined) config.uploads.expiry = options.uploadExpiryMs;
      return runLifecycleCommand(command, store, config);
    },
    async close() {
      await schedule?.stop();
    },
  };
}
