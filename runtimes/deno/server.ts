import { createRegistry, createStoreFromConfig, loggerFrom, registryOptionsFrom, type Config, type Logger, type Registry } from "../../src/index.ts";
import { DenoStore } from "./deno-store.ts";
import { createNodeCryptoHasher } from "../shared/node-crypto-hasher.ts";
import { serveNodeHttp, type RunningServer, type ServeOptions } from "../shared/http-server.ts";

export type { RunningServer, ServeOptions } from "../shared/http-server.ts";

/** The registry a configuration describes, on Deno: storage through Deno.open (or S3), node:crypto hashing. */
export async function createDenoRegistry(config: Config, logger: Logger = loggerFrom(config)): Promise<Registry> {
  const store = await createStoreFromConfig(config, async () => {
    const fs = new DenoStore(config.storage.root);
    await fs.probe(); // an unusable --root stops the server here, not at the first push
    await fs.removeStaleTempFiles();
    return fs;
  });
  return createRegistry(await registryOptionsFrom(config, { store, hasher: createNodeCryptoHasher, readText: (path) => Deno.readTextFile(path), logger }));
}

/**
 * Serve a registry on Deno's node:http (node:https with TLS) through the same server as Node
 * (runtimes/shared/http-server.ts). Not Deno.serve: it reads chunked uploads ~100x slower, over
 * TLS too (runtimes/deno/README.md).
 */
export function serve(options: ServeOptions): Promise<RunningServer> {
  const { host = "127.0.0.1", port = 5000 } = options;
  // node:http on Deno throws a missing --allow-net from a later tick, past listen's "error"
  // event (an uncaught crash): ask first, so main.ts names the permission to grant.
  const address = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  if (Deno.permissions.querySync({ name: "net", host: address }).state !== "granted") {
    return Promise.reject(new Deno.errors.NotCapable(`Requires net access to "${address}", run again with the --allow-net flag`));
  }
  return serveNodeHttp(options);
}
