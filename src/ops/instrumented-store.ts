/**
 * A BlobStore wrapper that times every call, as distribution's storage/driver/base wraps
 * every driver: `registry_storage_action_seconds{driver,action}`. It also counts the bytes
 * pushes write (upload parts and manifests), the one place every runtime's pushes pass.
 */
import type { BlobStore, ByteRange, ListOptions, PutOptions } from "../storage/blob-store.ts";
import type { RegistryMetrics } from "./registry-metrics.ts";

/** Keys that hold pushed bytes: upload parts (src/paths.ts uploadPartKey) and manifests (blobKey). */
const PUSHED_BYTES = /^(uploads\/[^/]+\/part-|blobs\/)/;

export function instrumentStore(store: BlobStore, metrics: RegistryMetrics): BlobStore {
  const driver = store.driver ?? store.constructor.name.replace(/Store$/, "").toLowerCase();
  const timed = async <T>(action: string, call: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await call();
    } finally {
      metrics.storage.observe({ driver, action }, (performance.now() - started) / 1000);
    }
  };
  return {
    driver,
    head: (key: string) => timed("Stat", () => store.head(key)),
    get: (key: string, range?: ByteRange) => timed("Reader", () => store.get(key, range)),
    async put(key: string, body: ReadableStream<Uint8Array> | Uint8Array, options?: PutOptions) {
      const written = await timed("PutContent", () => store.put(key, body, options));
      if (PUSHED_BYTES.test(key)) metrics.pushed.inc({}, written);
      return written;
    },
    concat: (sources: string[], dest: string) => timed("Move", () => store.concat(sources, dest)),
    delete: (key: string) => timed("Delete", () => store.delete(key)),
    list: (prefix: string, options?: ListOptions) => timed("List", () => store.list(prefix, options)),
    // Optional capabilities pass through as they are: a wrapper must not take them away.
    ...(store.presignGet ? { presignGet: (key: string) => timed("URLFor", () => store.presignGet!(key)) } : {}),
  };
}
