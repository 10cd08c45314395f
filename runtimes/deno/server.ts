import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createRegistry, createStoreFromConfig, errorResponse, loggerFrom, RegistryError, registryOptionsFrom, type Config, type Logger, type Registry } from "../../src/index.ts";
import { DenoStore } from "./deno-store.ts";
import { createNodeCryptoHasher } from "../shared/node-crypto-hasher.ts";
import { toRequestListener } from "../shared/http-adapter.ts";
import { serveTls } from "./tls-server.ts";

export interface ServeOptions {
  registry: Registry;
  host?: string;
  /** 0 for a free port. Default 5000. */
  port?: number;
  /** HTTPS (HTTP/2 and 1.1 by ALPN) with these PEM files, re-read when either changes. */
  tls?: { certFile: string; keyFile: string };
  logger?: Logger;
}

export interface RunningServer {
  url: string;
  /** node:http's server; with TLS the Deno.serve listener serving new connections (replaced when the certificate is renewed). */
  readonly server: Server | Deno.HttpServer<Deno.NetAddr>;
  /** Stop accepting, let in-flight requests finish (up to `graceMs`). */
  close(graceMs?: number): Promise<void>;
}

/** The registry a configuration describes, on Deno: storage through Deno.open (or S3), node:crypto hashing. */
export async function createDenoRegistry(config: Config, logger = loggerFrom(config)): Promise<Registry> {
  const store = await createStoreFromConfig(config, async () => {
    const fs = new DenoStore(config.storage.root);
    await fs.probe(); // an unusable --root stops the server here, not at the first push
    await fs.removeStaleTempFiles();
    return fs;
  });
  return createRegistry(await registryOptionsFrom(config, { store, hasher: createNodeCryptoHasher, readText: (path) => Deno.readTextFile(path), logger }));
}

/**
 * Serve a registry: plain HTTP on Deno's node:http through the same adapter as Node
 * (Deno.serve reads chunked uploads ~100x slower, runtimes/deno/README.md); HTTPS on Deno.serve.
 */
export async function serve(options: ServeOptions): Promise<RunningServer> {
  const { registry, host = "127.0.0.1", port: wanted = 5000, tls, logger } = options;
  if (tls) return serveTls({ ...options, tls });
  // node:http on Deno throws a missing --allow-net from a later tick, past listen's "error"
  // event (an uncaught crash): ask first, so main.ts names the permission to grant.
  const address = `${host.includes(":") ? `[${host}]` : host}:${wanted}`;
  if (Deno.permissions.querySync({ name: "net", host: address }).state !== "granted") {
    throw new Deno.errors.NotCapable(`Requires net access to "${address}", run again with the --allow-net flag`);
  }
  const drain = new Drain();
  const listener = toRequestListener((request, info) => registry.fetch(request, info), logger);
  const refuse = toRequestListener((request) => Promise.resolve(errorResponse(shuttingDown(), request.method)), logger);
  // Idle keep-alive connections outlive Go clients' 90 s, as on Node (runtimes/node/server.ts).
  const server = createServer({ keepAliveTimeout: 120_000, headersTimeout: 121_000 }, (req, res) => {
    if (drain.closing) return refuse(req, res);
    const done = drain.begin();
    res.once("close", done);
    listener(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(wanted, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    server,
    close: async (graceMs = 10_000) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
      server.close();
      server.closeIdleConnections();
      await Promise.race([drain.close(), grace]);
      clearTimeout(timer);
    },
  };
}

export const shuttingDown = () =>
  new RegistryError("UNAVAILABLE", null, { message: "shutting down", headers: { connection: "close", "retry-after": "1" } });

/** Counts requests until their responses are sent; `close()` resolves when none are left. */
class Drain {
  closing = false;
  private inFlight = 0;
  private idle?: () => void;

  begin(): () => void {
    this.inFlight++;
    return () => {
      if (--this.inFlight === 0) this.idle?.();
    };
  }

  close(): Promise<void> {
    this.closing = true;
    return this.inFlight === 0 ? Promise.resolve() : new Promise((resolve) => (this.idle = resolve));
  }
}
