/** The registry core called directly: createRegistry + MemoryStore, no socket. */
import { createRegistry, MemoryStore } from "../../src/index.ts";
import type { Target, TargetOptions } from "./index.ts";

export const IN_PROCESS_ORIGIN = "http://registry.test";

export async function createInProcessTarget(options: TargetOptions): Promise<Target> {
  // The htpasswd and policy "files" live here; the registry re-reads them as it would files.
  const files: { htpasswd?: string; policy?: string } = {
    htpasswd: options.auth?.htpasswd,
    policy: typeof options.auth?.policy === "string" ? options.auth.policy : undefined,
  };
  const read = (which: "htpasswd" | "policy") => (files[which] === undefined ? undefined : async () => files[which]!);
  const auth = options.auth?.htpasswd === undefined ? options.auth : { ...options.auth, reload: { htpasswd: read("htpasswd"), policy: read("policy"), intervalMs: options.auth.reload?.intervalMs } };
  const registry = createRegistry({ store: new MemoryStore(), ...options, auth });
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
    async close() {},
  };
}
