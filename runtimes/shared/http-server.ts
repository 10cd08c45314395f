// The server Node and Deno share: node:http (node:https with TLS) around the shared adapter,
// keep-alive settings that outlive Go clients, certificate reload, and the graceful drain.
// Deno's server.ts only adds its permission check in front.
import { createServer, type Server } from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { errorResponse, RegistryError, type Logger, type Registry } from "../../src/index.ts";
import { toRequestListener } from "./http-adapter.ts";
import { readPem, watchCertificate, type TlsFiles } from "./tls-files.ts";

export interface ServeOptions {
  /** Any registry: `createRegistry({ store: new FsStore("./data"), hasher: createNodeHasher })`. */
  registry: Registry;
  host?: string;
  /** 0 for a free port. Default 5000. */
  port?: number;
  /** HTTPS with these PEM files (the cert may be a chain), re-read whenever either changes. */
  tls?: TlsFiles;
  /** For the adapter's own lines (a response that failed mid-send, certificate reloads). */
  logger?: Logger;
}

export interface RunningServer {
  url: string;
  server: Server;
  /** Stop accepting, answer new requests on kept-alive connections 503, let in-flight ones finish (up to `graceMs`), then close. */
  close(graceMs?: number): Promise<void>;
}

// Idle keep-alive connections stay open longer than clients keep them (Go's transport, in
// docker, podman and skopeo: 90 s). A server that closes first races a client reusing the
// connection, which then sees "socket hang up" for a request it just sent (the benchmark
// met this after a 30 s idle gap; distribution never closes idle connections).
const KEEP_ALIVE_MS = 120_000;

/** Serve a registry on node:http (node:https with `tls`), on Node or Deno. */
export async function serveNodeHttp(options: ServeOptions): Promise<RunningServer> {
  const { registry, host = "127.0.0.1", port: wanted = 5000, tls, logger } = options;
  const settings = { keepAliveTimeout: KEEP_ALIVE_MS, headersTimeout: KEEP_ALIVE_MS + 1000 };
  const drain = new Drain();
  const listener = toRequestListener((request, info) => registry.fetch(request, info), logger);
  const refuse = toRequestListener((request) => Promise.resolve(errorResponse(shuttingDown(), request.method)), logger);
  const handle: Parameters<typeof createServer>[1] = (req, res) => {
    if (drain.closing) return refuse(req, res);
    const done = drain.begin();
    res.once("close", done);
    listener(req, res);
  };
  const server: Server = tls ? createHttpsServer({ ...settings, ...(await readPem(tls)) }, handle) as unknown as Server : createServer(settings, handle);
  const stopWatching = tls ? watchCertificate(tls, logger, (pem) => (server as unknown as HttpsServer).setSecureContext(pem)) : () => {};
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(wanted, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `${tls ? "https" : "http"}://${host.includes(":") ? `[${host}]` : host}:${port}`,
    server,
    close: async (graceMs = 10_000) => {
      stopWatching();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await raceTimer(drain.close(), graceMs);
      // Every response is sent (or the grace is over): what is left is idle or cut short.
      server.closeAllConnections();
      await raceTimer(closed, 1000);
    },
  };
}

export const shuttingDown = () =>
  new RegistryError("UNAVAILABLE", null, { message: "shutting down", headers: { connection: "close", "retry-after": "1" } });

async function raceTimer(promise: Promise<void>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/** Counts requests until their responses are sent; `close()` resolves when none are left. */
export class Drain {
  closing = false;
  private inFlight = 0;
  private waiters: Array<() => void> = [];

  begin(): () => void {
    this.inFlight++;
    return () => {
      if (--this.inFlight === 0) for (const wake of this.waiters.splice(0)) wake();
    };
  }

  /** Resolves once no request is in flight (now, if none is). */
  idle(): Promise<void> {
    return this.inFlight === 0 ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }

  close(): Promise<void> {
    this.closing = true;
    return this.idle();
  }
}
