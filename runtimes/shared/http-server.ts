// The server Node and Deno share: node:http (node:https with TLS) around the shared adapter,
// keep-alive settings that outlive Go clients, certificate reload, and the graceful drain.
// Deno's server.ts only adds its permission check in front.
import { createServer, type Server } from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import { createSecureServer, type Http2SecureServer } from "node:http2";
import type { AddressInfo, Socket } from "node:net";
import { errorResponse, RegistryError } from "../../src/errors.ts";
import type { Registry } from "../../src/handler.ts";
import type { Logger } from "../../src/ops/log.ts";
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
  /** With `tls`: offer HTTP/2 by ALPN too (node:http2, HTTP/1.1 still served). */
  http2?: boolean;
  /** For the adapter's own lines (a response that failed mid-send, certificate reloads). */
  logger?: Logger;
}

export interface RunningServer {
  url: string;
  /** node:http's or node:https's server; node:http2's with `http2` (typed as the HTTP/1 one: listen, address, close). */
  server: Server;
  /** Stop accepting, answer new requests on kept-alive connections 503, let in-flight ones finish (up to `graceMs`), then close. */
  close(graceMs?: number): Promise<void>;
}

// Idle keep-alive connections stay open longer than clients keep them (Go's transport, in
// docker, podman and skopeo: 90 s). A server that closes first races a client reusing the
// connection, which then sees "socket hang up" for a request it just sent (the benchmark
// met this after a 30 s idle gap; distribution never closes idle connections).
const KEEP_ALIVE_MS = 120_000;
// HTTP/2 receive windows. The protocol's 64 KiB default stalls an upload every 64 KiB for a
// WINDOW_UPDATE round trip; these were measured (README, Operations).
const H2_STREAM_WINDOW = 1024 * 1024;
const H2_SESSION_WINDOW = 8 * 1024 * 1024;

/** Serve a registry on node:http (node:https with `tls`), on Node or Deno. */
export async function serveNodeHttp(options: ServeOptions): Promise<RunningServer> {
  const { registry, host = "127.0.0.1", port: wanted = 5000, tls, http2 = false, logger } = options;
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
  const pem = tls ? await readPem(tls) : undefined;
  const h2 = pem && http2 ? createHttp2Server(pem, handle) : undefined;
  const server: Server = h2 ? h2.server : pem ? createHttpsServer({ ...settings, ...pem }, handle) as unknown as Server : createServer(settings, handle);
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
      if (h2) h2.goAway();
      else server.closeIdleConnections();
      await raceTimer(drain.close(), graceMs);
      // Every response is sent (or the grace is over): what is left is idle or cut short.
      if (h2) h2.destroyAll();
      else server.closeAllConnections();
      await raceTimer(closed, 1000);
    },
  };
}

/**
 * node:http2 with HTTP/1.1 beside it (allowHTTP1), both through the same adapter by the
 * compatibility API. Its server has no closeIdleConnections/closeAllConnections, so it keeps
 * its own list: on close, HTTP/2 sessions get a GOAWAY at once (streams in flight finish) and
 * whatever is left after the drain is destroyed.
 */
function createHttp2Server(pem: { cert: string; key: string }, handle: Parameters<typeof createServer>[1]) {
  const sockets = new Set<Socket>();
  const sessions = new Set<import("node:http2").ServerHttp2Session>();
  const server: Http2SecureServer = createSecureServer({ ...pem, allowHTTP1: true, settings: { initialWindowSize: H2_STREAM_WINDOW } }, handle as never);
  // HTTP/1.1 connections of this server take the keep-alive settings from it, as node:http's do.
  Object.assign(server, { keepAliveTimeout: KEEP_ALIVE_MS, headersTimeout: KEEP_ALIVE_MS + 1000, requestTimeout: 0 });
  server.on("secureConnection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  server.on("session", (session) => {
    // A push is one stream: the connection window is the stream's plus room for the others.
    session.setLocalWindowSize(H2_SESSION_WINDOW);
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  return {
    server: server as unknown as Server,
    goAway: () => sessions.forEach((session) => session.close()),
    destroyAll: () => sockets.forEach((socket) => socket.destroy()),
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
