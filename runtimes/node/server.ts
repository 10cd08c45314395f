import { readFile } from "node:fs/promises";
import { unwatchFile, watchFile } from "node:fs";
import { createServer, type Server } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { loggerFrom, registryOptionsFrom } from "../../src/config/registry-options.ts";
import type { Config } from "../../src/config/schema.ts";
import { createStoreFromConfig } from "../../src/config/store.ts";
import { createRegistry, type Registry } from "../../src/handler.ts";
import type { Logger } from "../../src/ops/log.ts";
import { FsStore } from "./fs-store.ts";
import { createNodeCryptoHasher } from "../shared/node-crypto-hasher.ts";
import { toRequestListener } from "../shared/http-adapter.ts";
import { fetchUpstream } from "./upstream-fetch.ts";

export interface ServeOptions {
  /** Any registry: `createRegistry({ store: new FsStore("./data"), hasher: createNodeHasher })`. */
  registry: Registry;
  host?: string;
  /** 0 for a free port. Default 5000. */
  port?: number;
  /** HTTPS with these PEM files (the cert may be a chain), re-read whenever either changes. */
  tls?: { certFile: string; keyFile: string };
  /** For the adapter's own lines (a response that failed mid-send, certificate reloads). */
  logger?: Logger;
}

const KEEP_ALIVE_MS = 120_000;
/** How often the certificate files are checked for a change (a stat each). */
const TLS_POLL_MS = 1000;

export interface RunningServer {
  url: string;
  server: Server;
  /** Stop accepting, let in-flight requests finish (up to `graceMs`), then close. */
  close(graceMs?: number): Promise<void>;
}

/** The registry a configuration describes, on Node: filesystem (or S3) storage, native hashing. */
export async function createNodeRegistry(config: Config, logger = loggerFrom(config)): Promise<Registry> {
  const store = await createStoreFromConfig(config, async () => {
    const fs = new FsStore(config.storage.root);
    await fs.probe(); // an unusable --root stops the server here, not at the first push
    await fs.removeStaleTempFiles();
    return fs;
  });
  return createRegistry(await registryOptionsFrom(config, { store, hasher: createNodeCryptoHasher, readText: (path) => readFile(path, "utf8"), fetch: fetchUpstream, logger }));
}

/** Serve a registry on node:http (node:https with `tls`). */
export async function serve(options: ServeOptions): Promise<RunningServer> {
  const { registry, host = "127.0.0.1", port: wanted = 5000, tls, logger } = options;
  // Idle keep-alive connections stay open longer than clients keep them (Go's transport, in
  // docker, podman and skopeo: 90 s). A server that closes first races a client reusing the
  // connection, which then sees "socket hang up" for a request it just sent (the benchmark
  // met this after a 30 s idle gap; distribution never closes idle connections).
  const settings = { keepAliveTimeout: KEEP_ALIVE_MS, headersTimeout: KEEP_ALIVE_MS + 1000 };
  const listener = toRequestListener((request, info) => registry.fetch(request, info), logger);
  const server: Server = tls ? createTlsServer({ ...settings, ...(await readPem(tls)) }, listener) : createServer(settings, listener);
  const stopWatching = tls ? watchCertificate(server as unknown as import("node:https").Server, tls, logger) : () => {};
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(wanted, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `${tls ? "https" : "http"}://${host.includes(":") ? `[${host}]` : host}:${port}`,
    server,
    close: (graceMs = 10_000) =>
      new Promise<void>((resolve) => {
        stopWatching();
        const timer = setTimeout(() => server.closeAllConnections(), graceMs);
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}

async function readPem(tls: { certFile: string; keyFile: string }) {
  const [cert, key] = await Promise.all([readFile(tls.certFile), readFile(tls.keyFile)]);
  return { cert, key };
}

/**
 * Renewed certificates (certbot, acme clients) are served without a restart: the files are
 * polled (a stat per second; polling follows a path through symlink swaps and renames, which
 * fs.watch loses) and a changed pair becomes the context of new connections. A pair that does
 * not load (one file written, the other not yet) keeps the old one until the next change.
 */
function watchCertificate(server: import("node:https").Server, tls: { certFile: string; keyFile: string }, logger?: Logger): () => void {
  const reload = async () => {
    try {
      server.setSecureContext(await readPem(tls));
      logger?.info("TLS certificate reloaded", { cert: tls.certFile });
    } catch (error) {
      logger?.warn("TLS certificate not reloaded, still serving the previous one", { cert: tls.certFile, error: (error as Error).message });
    }
  };
  const onChange = (now: { mtimeMs: number }, before: { mtimeMs: number }) => {
    if (now.mtimeMs !== before.mtimeMs) void reload();
  };
  for (const file of [tls.certFile, tls.keyFile]) watchFile(file, { interval: TLS_POLL_MS, persistent: false }, onChange);
  return () => {
    for (const file of [tls.certFile, tls.keyFile]) unwatchFile(file, onChange);
  };
}
