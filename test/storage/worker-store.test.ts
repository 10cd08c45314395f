/**
 * R2Store (runtimes/cloudflare) against the BlobStore contract, inside real workerd with a
 * local R2 bucket: test/workers/store-worker.ts serves it over store-rpc.
 */
import { afterAll, beforeAll } from "vitest";
import { startWorker, type RunningWorker } from "../workers/bundle.ts";
import type { BlobStore } from "../../src/index.ts";
import { describeBlobStoreContract } from "./contract.ts";
import { RemoteStore } from "./store-rpc.ts";

let worker: RunningWorker;
beforeAll(async () => {
  worker = await startWorker("test/workers/store-worker.ts");
}, 60_000);
afterAll(async () => {
  await worker?.close();
});

async function freshStore(base: string) {
  const reset = () => fetch(`${worker.url}/reset`, { method: "POST" }).then((res) => void res.body?.cancel());
  await reset();
  return { store: withConcurrencyLimit(new RemoteStore(base), 16), cleanup: reset };
}

/**
 * At most `limit` calls in flight: workerd under Miniflare drops some of 1,200 simultaneous
 * connections (the contract's paging test), which says nothing about the store.
 */
function withConcurrencyLimit(store: BlobStore, limit: number): BlobStore {
  let active = 0;
  const waiting: Array<() => void> = [];
  const run = async <T>(call: () => Promise<T>): Promise<T> => {
    while (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await call();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
  return {
    head: (key) => run(() => store.head(key)),
    get: (key, range) => run(() => store.get(key, range)),
    put: (key, body, options) => run(() => store.put(key, body, options)),
    concat: (sources, dest) => run(() => store.concat(sources, dest)),
    delete: (key) => run(() => store.delete(key)),
    list: (prefix, options) => run(() => store.list(prefix, options)),
  };
}

const options = { errorsCrossProcess: true, largeObjectBytes: 24 * 1024 * 1024 };
describeBlobStoreContract("R2Store in workerd", () => freshStore(worker.url), options);
// Single puts capped at 6 MiB: large puts and concat go through multipart uploads of equal parts.
describeBlobStoreContract("R2Store in workerd, multipart", () => freshStore(`${worker.url}/small`), options);
