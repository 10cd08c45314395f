import type { IncomingMessage, ServerResponse } from "node:http";
import { readableToWeb } from "./web-streams.ts";

type FetchHandler = (request: Request) => Promise<Response>;

const MAX_DISCARD_BYTES = 64 * 1024 * 1024;
const SMALL_BODY_BYTES = 64 * 1024;
const SEND_BUFFERS = 2;
const SEND_BUFFER_BYTES = 4 * 1024 * 1024;

/**
 * Serve a fetch handler from node:http, streaming both ways with backpressure.
 * Written here rather than taken from a library because HEAD must keep the handler's
 * Content-Length and a client that disconnects mid-body must only cancel streams.
 */
export function toRequestListener(handler: FetchHandler, onDone?: (entry: AccessLogEntry) => void) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    const exchange: Exchange = { bytes: 0, aborted: false };
    res.on("close", () => {
      // No AbortController per request: it cost more than the rest of a manifest GET's plumbing.
      exchange.aborted = !res.writableFinished;
      if (exchange.aborted) exchange.onAbort?.();
      onDone?.({ method: req.method ?? "", url: req.url ?? "", status: res.statusCode, bytes: exchange.bytes, ms: performance.now() - started, aborted: exchange.aborted });
    });
    handle(handler, req, res, exchange).catch((error) => {
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { "content-type": "text/plain" }).end("internal error");
      } else {
        res.destroy();
      }
      if (!exchange.aborted) console.error("berth: response failed", error);
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

/** One request/response pair: bytes sent so far, and whether the client went away. */
interface Exchange {
  bytes: number;
  aborted: boolean;
  onAbort?: () => void;
}

async function handle(handler: FetchHandler, req: IncomingMessage, res: ServerResponse, exchange: Exchange) {
  const response = await handler(toRequest(req));
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
  const length = Number(headers["content-length"]);
  if (length <= SMALL_BODY_BYTES) return sendWhole(response.body, res, exchange);
  // Big bodies of a known length from a file; anything else (a list, a stream of unknown
  // length) goes chunk by chunk as the handler yields it.
  if (length > 0 && isByteStream(response.body)) await sendInReusedBuffers(response.body, length, res, exchange);
  else await sendChunks(response.body, res, exchange);
  if (!exchange.aborted) res.end();
}

/** A small body (a manifest, an error) read whole and sent with the headers in one write. */
async function sendWhole(body: ReadableStream<Uint8Array>, res: ServerResponse, exchange: Exchange) {
  const chunks: Uint8Array[] = [];
  const reader = body.getReader(); // cheaper than an async iterator, which showed in profiles
  for (let next = await reader.read(); !next.done; next = await reader.read()) chunks.push(next.value);
  const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  exchange.bytes += bytes.byteLength;
  if (!exchange.aborted) res.end(bytes);
}

/** Write each chunk the body yields, waiting for "drain" when the socket is full. */
async function sendChunks(body: ReadableStream<Uint8Array>, res: ServerResponse, exchange: Exchange) {
  const reader = body.getReader();
  exchange.onAbort = () => void reader.cancel().catch(() => {});
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || exchange.aborted) break;
      exchange.bytes += value.byteLength;
      if (!res.write(value)) await drained(res);
    }
  } finally {
    reader.releaseLock();
  }
}

/**
 * A byte stream (a file) is read into SEND_BUFFERS buffers that go round: one fills while
 * another is written, and a buffer is reused once the socket has taken it. Allocating a
 * fresh buffer per chunk made a pull fault in new memory for every byte, at less than half
 * the speed; the buffers in flight are also the backpressure.
 */
async function sendInReusedBuffers(body: ReadableStream<Uint8Array>, length: number, res: ServerResponse, exchange: Exchange) {
  const reader = body.getReader({ mode: "byob" });
  exchange.onAbort = () => void reader.cancel().catch(() => {});
  const size = Math.min(SEND_BUFFER_BYTES, length);
  const free = Array.from({ length: SEND_BUFFERS }, () => new Uint8Array(size));
  let wakeUp: (() => void) | undefined;
  const giveBack = (buffer: ArrayBuffer) => {
    free.push(new Uint8Array(buffer));
    wakeUp?.();
  };
  const onClose = () => wakeUp?.();
  res.on("close", onClose);
  try {
    for (;;) {
      while (free.length === 0 && !exchange.aborted) await new Promise<void>((resolve) => (wakeUp = resolve));
      if (exchange.aborted) break;
      // The read takes over the buffer's memory; `value` is a view on it.
      const { done, value } = await reader.read(free.pop()!);
      if (done || exchange.aborted) break;
      exchange.bytes += value.byteLength;
      res.write(value, () => giveBack(value.buffer as ArrayBuffer));
    }
  } finally {
    res.off("close", onClose);
    reader.releaseLock();
  }
}

function isByteStream(body: ReadableStream<Uint8Array>): boolean {
  try {
    body.getReader({ mode: "byob" }).releaseLock();
    return true;
  } catch {
    return false; // not a byte stream: only default readers
  }
}

function toRequest(req: IncomingMessage): Request {
  const url = safeUrl(req.headers.host, req.url);
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  return new Request(url, {
    method: req.method,
    headers,
    body: hasBody ? readableToWeb(req) : undefined,
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

/** Wait until `res` can take more, or is closed (then the caller sees `aborted`). */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done).off("close", done);
      resolve();
    };
    res.on("drain", done).on("close", done);
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
