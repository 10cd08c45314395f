import { readFile } from "node:fs/promises";
import { loggerFrom, registryOptionsFrom } from "../../src/config/registry-options.ts";
import type { Config } from "../../src/config/schema.ts";
import { createStoreFromConfig } from "../../src/config/store.ts";
import { createRegistry, type Registry } from "../../src/handler.ts";
import type { Logger } from "../../src/ops/log.ts";
import type { MetricsSnapshot } from "../../src/ops/metrics.ts";
import { FsStore } from "./fs-store.ts";
import { createNodeCryptoHasher } from "../shared/node-crypto-hasher.ts";
import { serveNodeHttp } from "../shared/http-server.ts";
import { fetchUpstream } from "./upstream-fetch.ts";

export type { RunningServer, ServeOptions } from "../shared/http-server.ts";

/**
 * The registry a configuration describes, on Node: filesystem (or S3) storage, native hashing.
 * `metricsPeers`: the other processes' counts, summed into /metrics (a cluster worker's).
 */
export async function createNodeRegistry(config: Config, logger: Logger = loggerFrom(config), metricsPeers?: () => Promise<MetricsSnapshot[]>): Promise<Registry> {
  const store = await createStoreFromConfig(config, async () => {
    const fs = new FsStore(config.storage.root);
    await fs.probe(); // an unusable --root stops the server here, not at the first push
    await fs.removeStaleTempFiles();
    return fs;
  });
  return createRegistry(await registryOptionsFrom(config, { store, hasher: createNodeCryptoHasher, readText: (path) => readFile(path, "utf8"), fetch: fetchUpstream, logger, metricsPeers }));
}

/** Serve a registry on node:http (node:https with `tls`, reloaded when the files change). */
export const serve = serveNodeHttp;
