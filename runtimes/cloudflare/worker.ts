/**
 * Berth on Cloudflare Workers: the portable registry with an R2 bucket as its store.
 * Everything a request needs is in the bucket, so any isolate can serve any request.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { collectGarbageSlice, ConfigError, createRegistry, errorResponse, formatGcReport, gcOptionsFrom, type Registry } from "../../src/index.ts";
import { drainBody } from "../../src/streams.ts";
import { createNodeCryptoHasher } from "../shared/node-crypto-hasher.ts";
import { configOf, registryOptionsOf, storeOf, type Env } from "./config.ts";
import { watchExchange } from "./exchange.ts";

export type { Env } from "./config.ts";

// The registry outlives requests (its in-isolate caches: live upload hashes, checked
// passwords), but waitUntil belongs to one request: background work finds the
// ExecutionContext of the request that started it here.
const requestContext = new AsyncLocalStorage<ExecutionContext>();
const registries = new WeakMap<Env, Promise<Registry>>();

function registryFor(env: Env): Promise<Registry> {
  let registry = registries.get(env);
  if (!registry) {
    const waitUntil = (promise: Promise<unknown>) => requestContext.getStore()?.waitUntil(promise);
    registry = registryOptionsOf(env, waitUntil).then((options) => createRegistry({ ...options, hasher: createNodeCryptoHasher, sizedBody: (body, size) => body.pipeThrough(new FixedLengthStream(size)) }));
    registries.set(env, registry);
  }
  return registry;
}

export default {
  async fetch(request, env, ctx) {
    const exchange = watchExchange(request);
    const response = await requestContext.run(ctx, async () => (await registryFor(env)).fetch(request, exchange.info)).catch(configurationFailed);
    // An error answered before the body was read (413, 401, 404): workerd would reset the
    // connection while the client still sends, and the client would see that, not the error.
    if (request.body && !request.body.locked) await drainBody(request.body);
    return exchange.track(response);
  },

  // A Cron Trigger (wrangler.toml [triggers]): one slice of garbage collection, resumed from
  // the bucket by the next trigger; BERTH_GC_INTERVAL spaces out whole collections.
  // The slice reports to this isolate's registry, so its /metrics count the runs (per isolate).
  async scheduled(_controller, env) {
    const config = await configOf(env);
    const { gcObserver } = await registryFor(env);
    const report = await collectGarbageSlice(storeOf(env, config), gcOptionsFrom(config), GC_SLICE_MS, config.gc.interval, gcObserver).catch((error: unknown) => {
      gcObserver.failed();
      throw error;
    });
    if (report) console.log(`berth gc: ${formatGcReport(report, false).trimEnd().split("\n").join("; ")}`);
  },
} satisfies ExportedHandler<Env>;

/** Wall time one Cron slice spends collecting; the step in progress then ends and the state is stored. */
const GC_SLICE_MS = 15_000;

/** A Worker has no startup to stop: a bad configuration answers every request, saying what is wrong. */
function configurationFailed(error: unknown): Response {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`berth: configuration: ${error.message}`);
  return errorResponse(new Error("misconfigured"));
}
