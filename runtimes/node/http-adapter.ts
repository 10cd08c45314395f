import type { IncomingMessage, ServerResponse } from "node:http";
import { readableToWeb } from "./web-streams.ts";

type FetchHandler = (request: Request) => Promise<Response>;

/**
 * Serve a fetch handler from node:http, streaming both ways with backpressure.
 * Written here rather than taken from a library because HEAD must keep the handler's
 * Content-Length and a client that disconnects mid-body must only cancel streams.
 */
export function toRequestListener(handler: FetchHandler, onDone?: (entry: AccessLogEntry) => void) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    const abort = new AbortController();
    const sent = { bytes: 0 };
    res.on("close", () => {
      if (!res.writableFinished) abort.abort();
      onDone?.({ method: req.method ?? "", url: req.url ?? "", status: res.statusCode, bytes: sent.bytes, ms: performance.now() - started, aborted: !res.writableFinished });
    });
    handle(handler, req, res, abort.signal, sent).catch((error) => {
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { "content-type": "text/plain" }).end("internal error");
      } else {
        res.destroy();
      }
      if (!abort.signal.aborted) console.error("berth: response failed", error);
    });
  };
}

export interface AccessLogEntry {
  method: string;
  url: string;
  status: number;
  bytes: number;
  ms: number;
  aborted: boolean;
}

async function handle(handler: FetchHandler, req: IncomingMessage, res: ServerResponse, signal: AbortSignal, sent: { bytes: number }) {
  const response = await handler(toRequest(req, signal));
  const headers: Record<string, string> = {};
  response.headers.forEach((value, key) => (headers[key] = value));
  // Answered before the request body was read (413, 401, a bad digest): the unread bytes
  // would be parsed as the next request, so this connection cannot be reused.
  if (!req.complete) headers.connection = "close";
  res.writeHead(response.status, headers);
  if (!response.body || req.method === "HEAD") {
    await response.body?.cancel();
    res.end();
    return;
  }
  const reader = response.body.getReader();
  signal.addEventListener("abort", () => void reader.cancel().catch(() => {}), { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || signal.aborted) break;
      sent.bytes += value.byteLength;
      if (!res.write(value)) await drained(res, signal);
    }
  } finally {
    reader.releaseLock();
  }
  if (!signal.aborted) res.end();
}

function toRequest(req: IncomingMessage, signal: AbortSignal): Request {
  const url = safeUrl(req.headers.host, req.url);
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  return new Request(url, {
    method: req.method,
    headers,
    signal,
    body: hasBody ? readableToWeb(req) : undefined,
    // @ts-expect-error duplex is required by Node's fetch for streamed bodies, missing from DOM types
    duplex: "half",
  });
}

function drained(res: ServerResponse, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      res.off("drain", done);
      signal.removeEventListener("abort", done);
      resolve();
    };
    res.on("drain", done);
    signal.addEventListener("abort", done, { once: true });
  });
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
