import type { IncomingMessage, ServerResponse } from "node:http";
import { bytesBeside } from "../../src/bytes-response.ts";
import { errorResponse } from "../../src/errors.ts";
import type { ExchangeInfo, ExchangeOutcome } from "../../src/ops/exchange.ts";
import type { Logger } from "../../src/ops/log.ts";
import { rejectRequestLine } from "../../src/request-line.ts";
import { MAX_DRAIN_BYTES } from "../../src/streams.ts";
import { type Exchange, sendBody, sendBytes } from "./send-body.ts";
import { readableToWeb } from "./web-streams.ts";
import { noteRequest } from "./young-garbage.ts";

const HOP_BY_HOP = ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"];

type FetchHandler = (request: Request, info?: ExchangeInfo) => Promise<Response>;

/**
 * Serve a fetch handler from node:http, streaming both ways with backpressure.
 * Written here rather than taken from a library because HEAD must keep the handler's
 * Content-Length and a client that disconnects mid-body must only cancel streams.
 */
export function toRequestListener(handler: FetchHandler, logger?: Logger) {
  return (req: IncomingMessage, res: ServerResponse) => {
    noteRequest(); // a full GC once requests stop (young-garbage.ts)
    const exchange: Exchange = { bytes: 0, aborted: false };
    const received = { bytes: 0 };
    let settle!: (outcome: ExchangeOutcome) => void;
    const info: ExchangeInfo = {
      clientAddress: req.socket.remoteAddress,
      clientGone: () => exchange.aborted || !!req.socket.destroyed,
      done: new Promise((resolve) => (settle = resolve)),
      writesBytes: true, // send() writes a small body kept beside its Response (src/bytes-response.ts)
    };
    res.on("close", () => {
      // No AbortController per request: it cost more than the rest of a manifest GET's plumbing.
      exchange.aborted = !res.writableFinished;
      if (exchange.aborted) exchange.onAbort?.();
      settle({ bytesIn: received.bytes, bytesOut: exchange.bytes, aborted: exchange.aborted });
    });
    handle(handler, req, res, exchange, info, received).catch((error) => {
      // A failure past the core's own catch: still the one serializer's 500 UNKNOWN, if it can be sent.
      if (res.headersSent || res.destroyed) {
        res.destroy();
        if (!exchange.aborted) (logger ?? console).error(`response failed: ${error instanceof Error ? error.stack : error}`);
        return;
      }
      send(errorResponse(error, req.method, (e) => (logger ?? console).error(`response failed: ${e instanceof Error ? e.stack : e}`)), req, res, exchange).catch(() => res.destroy());
    });
  };
}

async function handle(handler: FetchHandler, req: IncomingMessage, res: ServerResponse, exchange: Exchange, info: ExchangeInfo, received: { bytes: number }) {
  // The raw target is only visible here: URL parsing in toRequest would fold "/a/../b".
  // TRACE and CONNECT are refused here too: `new Request` cannot carry them.
  const response = rejectRequestLine(req.method ?? "", req.url ?? "/") ?? (await handler(toRequest(req, received), info));
  await send(response, req, res, exchange);
}

async function send(response: Response, req: IncomingMessage, res: ServerResponse, exchange: Exchange) {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, key) => (headers[key] = value));
  // Answered before the request body was read (413, 401, a bad digest): the rest is read
  // and dropped (src/streams.ts MAX_DRAIN_BYTES) so the client reads the answer, not a
  // reset; a body declared longer than that closes the connection instead.
  if (!req.complete) {
    if (Number(req.headers["content-length"]) > MAX_DRAIN_BYTES) headers.connection = "close";
    else discardBody(req);
  }
  // HTTP/2 (node:http2's compatibility API) refuses connection-level headers; its stream is
  // reset after the answer instead of the connection closed.
  if (req.httpVersionMajor === 2) for (const name of HOP_BY_HOP) delete headers[name];
  res.writeHead(response.status, headers);
  const bytes = bytesBeside(response); // a small body, no stream (info.writesBytes)
  if (bytes && req.method !== "HEAD") return sendBytes(bytes, res, exchange);
  if (!response.body || req.method === "HEAD") {
    await response.body?.cancel();
    res.end();
    return;
  }
  await sendBody(response.body, Number(headers["content-length"]), res, exchange);
}

function toRequest(req: IncomingMessage, received: { bytes: number }): Request {
  // HTTP/2 names the host `:authority`; its pseudo-headers (":path", ...) are no headers.
  const url = safeUrl(req.headers.host ?? (req.headers[":authority"] as string | undefined), req.url);
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (!req.rawHeaders[i]!.startsWith(":")) headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
  }
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  return new Request(url, {
    method: req.method,
    headers,
    body: hasBody ? readableToWeb(req, received) : undefined,
    // @ts-expect-error duplex is required by Node's fetch for streamed bodies, missing from DOM types
    duplex: "half",
  });
}

/** Read and drop the rest of a request body nobody will consume; past MAX_DRAIN_BYTES, hang up. */
function discardBody(req: IncomingMessage): void {
  let seen = 0;
  req.removeAllListeners("data");
  req.on("data", (chunk: Buffer) => {
    if ((seen += chunk.byteLength) > MAX_DRAIN_BYTES) req.destroy();
  });
  req.resume();
}

/** The request URL; a Host header that does not parse falls back to localhost. */
function safeUrl(host: string | undefined, path = "/"): string {
  for (const authority of [host, "localhost"]) {
    try {
      if (authority) return new URL(path, `http://${authority}`).href;
    } catch {
      // try the next
    }
  }
  return "http://localhost/";
}
