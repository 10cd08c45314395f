/** The registry core called directly: createRegistry + MemoryStore, no socket. */
import { createRegistry, MemoryStore } from "../../src/index.ts";
import { checkUpstreams } from "../../src/proxy/upstreams.ts";
import type { Target, TargetOptions } from "./index.ts";

export const IN_PROCESS_ORIGIN = "http://registry.test";

export async function createInProcessTarget(options: TargetOptions): Promise<Target> {
  const { upstreams, upstreamTagTtlSeconds, ...rest } = options;
  const proxy = upstreams?.length ? { upstreams: checkUpstreams(upstreams, "upstreams"), tagTtlMs: upstreamTagTtlSeconds === undefined ? undefined : upstreamTagTtlSeconds * 1000 } : undefined;
  const registry = createRegistry({ store: new MemoryStore(), ...rest, proxy });
  return {
    name: "in-process",
    async fetch(path, init = {}) {
      const streaming = init.body instanceof ReadableStream;
      const request = new Request(IN_PROCESS_ORIGIN + path, {
        ...init,
        ...(streaming ? { duplex: "half" } : {}),
      } as RequestInit);
      return registry.fetch(request);
    },
    async close() {},
  };
}
