import { errorResponse, type ExchangeOutcome } from "../../src/index.ts";
import { Drain, shuttingDown, type ServeOptions } from "../shared/http-server.ts";
import type { RunningServer } from "./server.ts";
import { readPem, watchCertificate, type Pem } from "./tls-reload.ts";

/**
 * HTTPS on Deno.serve (HTTP/2 and 1.1 by ALPN, certificate swaps by reusePort). Plain HTTP is
 * served through node:http instead (server.ts): Deno.serve reads chunked uploads slowly
 * (runtimes/deno/README.md), and over TLS it still does.
 */
export async function serveTls(options: ServeOptions & { tls: NonNullable<ServeOptions["tls"]> }): Promise<RunningServer> {
  const { registry, host = "127.0.0.1", port: wanted = 5000, tls, logger } = options;
  // With TLS, reusePort lets a listener with a renewed certificate bind next to the running one.
  // Deno 2.9 has it for TLS only with --unstable-net (asking without it exits the process), so
  // the flag is detected by an API it unlocks; without it the certificate is read once.
  const unstableNet = typeof (Deno as unknown as Record<string, unknown>).listenDatagram === "function";
  const reusePort = tls !== undefined && unstableNet;
  if (tls && !unstableNet) logger?.warn("TLS certificate reload on Deno needs deno run --unstable-net; the certificate is read once");
  const listen = (pem: Pem | undefined, port: number): Listener => {
    const drain = new Drain();
    const start = (reuse: boolean) => Deno.serve({ hostname: host, port, reusePort: reuse || undefined, ...pem, onListen: () => {} }, async (request, info) => {
      if (drain.closing) return errorResponse(shuttingDown(), request.method);
      const done = drain.begin();
      info.completed.then(done, done);
      const sent = { bytes: 0, counted: true };
      const outcome = (aborted: boolean): ExchangeOutcome => ({ bytesOut: aborted && !sent.counted ? undefined : sent.bytes, aborted });
      const response = await registry.fetch(request, {
        clientAddress: info.remoteAddr.hostname,
        clientGone: isDisconnect,
        done: info.completed.then(() => outcome(false), () => outcome(true)),
      }).catch((error) => errorResponse(error, request.method, (e) => (logger ?? console).error(`response failed: ${e instanceof Error ? e.stack : e}`)));
      return countBody(request, response, sent);
    });
    return { server: start(reusePort), drain };
  };
  let current = listen(tls ? await readPem(tls) : undefined, wanted);
  const { port } = current.server.addr;
  const retiring = new Set<Promise<void>>();
  const stopWatching = tls && reusePort
    ? watchCertificate(tls, logger, (pem) => {
        const old = current;
        current = listen(pem, port); // throws on a pair that does not load: the old one stays
        const done = retire(old).finally(() => retiring.delete(done));
        retiring.add(done);
      })
    : () => {};
  return {
    url: `${tls ? "https" : "http"}://${host.includes(":") ? `[${host}]` : host}:${port}`,
    get server() {
      return current.server;
    },
    close: async (graceMs = 10_000) => {
      stopWatching();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
      // Drain first, shut down after: Deno 2.9's shutdown() makes in-flight request bodies
      // unreadable (denoland/deno#36809), which would fail every upload still arriving.
      await Promise.race([Promise.all([current.drain.close().then(() => current.server.shutdown()), ...retiring]), grace]);
      clearTimeout(timer);
    },
  };
}

interface Listener {
  server: Deno.HttpServer<Deno.NetAddr>;
  drain: Drain;
}

/**
 * A listener replaced by one with a renewed certificate: it keeps serving the connections it
 * has until none of its requests is in flight (at most a minute), then shuts down. Shutting
 * down while idle spares uploads the broken bodies of denoland/deno#36809.
 */
async function retire(old: Listener): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([old.drain.idle(), new Promise<void>((resolve) => (timer = setTimeout(resolve, 60_000)))]);
  clearTimeout(timer);
  await old.server.shutdown();
}


/**
 * Count the body bytes the access log and metrics report. A Content-Length body is taken at its
 * length, not counted (wrapping a file stream would lose Deno.serve's native send path),
 * so when such a response is cut short its count is unknown. Others are counted as they pass.
 */
function countBody(request: Request, response: Response, sent: { bytes: number; counted: boolean }): Response {
  if (!response.body || request.method === "HEAD") return response;
  const length = Number(response.headers.get("content-length") ?? NaN);
  if (Number.isInteger(length)) {
    sent.bytes = length;
    sent.counted = false;
    return response;
  }
  const counter = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      sent.bytes += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
  return new Response(response.body.pipeThrough(counter), response);
}

/** How a body read fails on Deno once its client has hung up (checked through `cause` too). */
function isDisconnect(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    if (e instanceof Deno.errors.BadResource || e instanceof Deno.errors.Http || e instanceof Deno.errors.ConnectionReset || e instanceof Deno.errors.BrokenPipe || e instanceof Deno.errors.Interrupted) return true;
  }
  return false;
}
