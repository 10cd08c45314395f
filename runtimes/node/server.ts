import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createRegistry, createStoreFromConfig, registryOptionsFrom, type Config, type Registry } from "../../src/index.ts";
import { FsStore } from "./fs-store.ts";
import { createNodeCryptoHasher } from "../shared/node-crypto-hasher.ts";
import { toRequestListener, type AccessLogEntry } from "./http-adapter.ts";

export interface ServeOptions {
  /** Any registry: `createRegistry({ store: new FsStore("./data"), hasher: createNodeHasher })`. */
  registry: Registry;
  host?: string;
  /** 0 for a free port. Default 5000. */
  port?: number;
  accessLog?: (entry: AccessLogEntry) => void;
}

const KEEP_ALIVE_MS = 120_000;

export interface RunningServer {
  url: string;
  server: Server;
  /** Stop accepting, let in-flight requests finish (up to `graceMs`), then close. */
  close(graceMs?: number): Promise<void>;
}

/** The registry a configuration describes, on Node: filesystem (or S3) storage, native hashing. */
export async function createNodeRegistry(config: Config): Promise<Registry> {
  const store = await createStoreFromConfig(config, async () => {
    const fs = new FsStore(config.storage.root);
    await fs.probe(); // an unusable --root stops the server here, not at the first push
    await fs.removeStaleTempFiles();
    return fs;
  });
  return createRegistry(await registryOptionsFrom(config, { store, hasher: createNodeCryptoHasher, readText: (path) => readFile(path, "utf8") }));
}

/** Serve a registry on node:http. */
export async function serve(options: ServeOptions): Promise<RunningServer> {
  const { registry, host = "127.0.0.1", port: wanted = 5000 } = options;
  // Idle keep-alive connections stay open longer than clients keep them (Go's transport, in
  // docker, podman and skopeo: 90 s). A server that closes first races a client reusing the
  // connection, which then sees "socket hang up" for a request it just sent (the benchmark
  // met this after a 30 s idle gap; distribution never closes idle connections).
  const server = createServer({ keepAliveTimeout: KEEP_ALIVE_MS, headersTimeout: KEEP_ALIVE_MS + 1000 }, toRequestListener((request) => registry.fetch(request), options.accessLog));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(wanted, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    server,
    close: (graceMs = 10_000) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.closeAllConnections(), graceMs);
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
