import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createRegistry } from "../../src/index.ts";
import { toRegistryOptions, type ServeOptions as SharedServeOptions } from "../shared/serve-options.ts";
import { FsStore } from "./fs-store.ts";
import { createNodeCryptoHasher } from "../shared/node-crypto-hasher.ts";
import { toRequestListener, type AccessLogEntry } from "./http-adapter.ts";

export type ServeOptions = SharedServeOptions<AccessLogEntry>;

const KEEP_ALIVE_MS = 120_000;

export interface RunningServer {
  url: string;
  server: Server;
  /** Stop accepting, let in-flight requests finish (up to `graceMs`), then close. */
  close(graceMs?: number): Promise<void>;
}

/** Start Berth on node:http with filesystem storage. */
export async function serve(options: ServeOptions): Promise<RunningServer> {
  const store = new FsStore(options.root);
  await store.probe(); // an unusable --root stops the server here, not at the first push
  await store.removeStaleTempFiles();
  const htpasswd = options.htpasswdFile ? await readFile(options.htpasswdFile, "utf8") : undefined;
  const registry = createRegistry(toRegistryOptions(options, { store, hasher: createNodeCryptoHasher, htpasswd }));
  // Idle keep-alive connections stay open longer than clients keep them (Go's transport, in
  // docker, podman and skopeo: 90 s). A server that closes first races a client reusing the
  // connection, which then sees "socket hang up" for a request it just sent (the benchmark
  // met this after a 30 s idle gap; distribution never closes idle connections).
  const server = createServer({ keepAliveTimeout: KEEP_ALIVE_MS, headersTimeout: KEEP_ALIVE_MS + 1000 }, toRequestListener(registry.fetch, options.accessLog));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}`,
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
