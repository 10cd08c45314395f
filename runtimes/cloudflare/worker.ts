/**
 * Berth on Cloudflare Workers: the portable registry with an R2 bucket as its store.
 * Everything a request needs is in the bucket, so any isolate can serve any request.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { createRegistry, type Registry } from "../../src/index.ts";
import { drainBody } from "../../src/streams.ts";
import { readConfig, type Env } from "./config.ts";
import { createNodeCryptoHasher } from "../shared/node-crypto-hasher.ts";
import { R2Store } from "./r2-store.ts";

export type { Env } from "./config.ts";

// The registry outlives requests (its in-isolate caches: live upload hashes, checked
// passwords), but waitUntil belongs to one request: background work finds the
// ExecutionContext of the request that started it here.
const requestContext = new AsyncLocalStorage<ExecutionContext>();
const registries = new WeakMap<Env, Registry>();

function registryFor(env: Env): Registry {
  let registry = registries.get(env);
  if (!registry) {
    const { r2, ...config } = readConfig(env);
    registry = createRegistry({
      ...config,
      store: new R2Store(env.BUCKET, r2),
      hasher: createNodeCryptoHasher,
      waitUntil: (promise) => requestContext.getStore()?.waitUntil(promise),
    });
    registries.set(env, registry);
  }
  return registry;
}

export default {
  async fetch(request, env, ctx) {
    const response = await requestContext.run(ctx, () => registryFor(env).fetch(request));
    // An error answered before the body was read (413, 401, 404): workerd would reset the
    // connection while the client still sends, and the client would see that, not the error.
    if (request.body && !request.body.locked) await drainBody(request.body);
    return response;
  },
} satisfies ExportedHandler<Env>;
