import type { IncomingMessage, ServerResponse } from "node:http";
import type { ExchangeInfo, ExchangeOutcome, Logger } from "../../src/index.ts";
import { type Exchange, sendBody } from "./send-body.ts";
import { readableToWeb } from "./web-streams.ts";

type FetchHandler = (request: Request, info?: ExchangeInfo) => Promise<Response>;

const MAX_DISCARD_BYTES = 64 * 1024 * 1024;

/**
 * Serve a fetch handler from node:http, streaming both ways with backpressure.
 * Written here rather than taken from a library because HEAD must keep the handler's
 * Content-Length and a client that disconnects mid-body must only cancel streams.
 */
export function toRequestListener(handler: FetchHandler, logger?: Logger) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const exchange: Exchange = { bytes: 0, aborted: false };
    const received = { bytes: 0 };
    let settle!: (outcome: ExchangeOutcome) => void;
    const info: ExchangeInfo = {
      clientAddress: req.socket.remoteAddress,
      clientGone: () => exchange.aborted || !!req.socket.destroyed,
      done: new Promise((resolve) => (settle = resolve)),
    };
    res.on("close", () => {
      // No AbortController per request: it cost more than the rest of a manifest GET's plumbing.
      exchange.aborted = !res.writableFinished;
      if (exchange.aborted) exchange.onAbort?.();
      settle({ bytesIn: received.bytes, bytesOut: exchange.bytes, aborted: exchange.aborted });
    });
    handle(handler, req, res, exchange, info, received).catch((error) => {
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { "content-type": "text/plain" }).end("internal error");
      } else {
        res.destroy();
      }
      if (!exchange.aborted) (logger ?? console).error(`response failed: ${error instanceof Error ? error.stack : error}`);
    });
  };
}

async function handle(handler: FetchHandler, req: IncomingMessage, res: ServerResponse, exchange: Exchange, info: ExchangeInfo, received: { bytes: number }) {
  const response = await handler(toRequest(req, received), info);
  const headers: Record<string, string> = {};
  response.headers.forEach((value, key) => (headers[key] = value));
  const unread = !req.complete;
  // Answered before the request body was read (413, 401, a bad digest): a small rest is
  // read and dropped so the connection stays usable (and the client sees no EPIPE); a large
  // or unknown one closes the connection instead, as Go's net/http does.
  if (unread && !(Number(req.headers["content-length"]) <= MAX_DISCARD_BYTES)) headers.connection = "close";
  else if (unread) discardBody(req);
  res.writeHead(response.status, headers);
  if (!response.body || req.method === "HEAD") {
    await response.body?.cancel();
    res.end();
    return;
  }
  await sendBody(response.body, Number(headers["content-length"]), res, exchange);
}

function toRequest(req: IncomingMessage, received: { bytes: number }): Request {
  const url = safeUrl(req.headers.host, req.url);
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  return new Request(url, {
    method: req.method,
    headers,
    body: hasBody ? readableToWeb(req, received) : undefined,
    // @ts-expect-error duplex is required by Node's fetch for streamed bodies, missing from DOM types
    duplex: "half",
  });
}

/** Read and drop the rest of a request body nobody will consume. */
function discardBody(req: IncomingMessage): void {
  req.removeAllListeners("data");
  req.on("data", () => {});
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
