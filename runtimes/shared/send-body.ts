import type { ServerResponse } from "node:http";
import { collectBytes } from "../../src/streams.ts";
import { BufferPool } from "./buffer-pool.ts";

const SMALL_BODY_BYTES = 64 * 1024;
const SEND_BUFFERS = 2;
const SEND_BUFFER_BYTES = 2 * 1024 * 1024;
/** Free send buffers kept for the next pull (four: two pulls at a time). */
const pool = new BufferPool(SEND_BUFFER_BYTES, 4 * SEND_BUFFER_BYTES);

// A pull shorter than a buffer gets buffers its size when the pool is empty; only whole-size
// ones are kept (a detached or short buffer never reaches a later pull).
const takeBuffer = (length: number) => new Uint8Array(pool.take() ?? new ArrayBuffer(Math.min(SEND_BUFFER_BYTES, length)));

/** One request/response pair: bytes sent so far, and whether the client went away. */
export interface Exchange {
  bytes: number;
  aborted: boolean;
  onAbort?: () => void;
}

/**
 * Send a response body of `length` bytes (NaN when unknown) and end the response, the
 * cheapest way its kind allows.
 */
export async function sendBody(body: ReadableStream<Uint8Array>, length: number, res: ServerResponse, exchange: Exchange): Promise<void> {
  if (length <= SMALL_BODY_BYTES) return sendWhole(body, res, exchange);
  // Big bodies of a known length from a file; anything else (a list, a stream of unknown
  // length) goes chunk by chunk as the handler yields it.
  if (length > 0 && isByteStream(body)) await sendInReusedBuffers(body, length, res, exchange);
  else await sendChunks(body, res, exchange);
  if (!exchange.aborted) res.end();
}

/** A small body (a manifest, an error) read whole and sent with the headers in one write. */
async function sendWhole(body: ReadableStream<Uint8Array>, res: ServerResponse, exchange: Exchange) {
  sendBytes(await collectBytes(body), res, exchange);
}

/** A body already in memory, sent with the headers in one write; ends the response. */
export function sendBytes(bytes: Uint8Array, res: ServerResponse, exchange: Exchange): void {
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
    await releaseReader(reader, exchange);
  }
}

/**
 * A byte stream (a file) is read into SEND_BUFFERS buffers that go round: one fills while
 * another is written, and a buffer is reused once the socket has taken it. Allocating a
 * fresh buffer per chunk made a pull fault in new memory for every byte, at less than half
 * the speed; the buffers in flight are also the backpressure. The buffers outlive the pull
 * in a small pool: two fresh ones cost every pull ~1-2 ms of page faults before its first
 * byte. 2 MiB rather than 4: the first read ends sooner, and a whole pull ran as fast or
 * faster (README, Performance: "Pull, again").
 */
async function sendInReusedBuffers(body: ReadableStream<Uint8Array>, length: number, res: ServerResponse, exchange: Exchange) {
  const reader = body.getReader({ mode: "byob" });
  exchange.onAbort = () => void reader.cancel().catch(() => {});
  const free = Array.from({ length: SEND_BUFFERS }, () => takeBuffer(length));
  let finished = false;
  let wakeUp: (() => void) | undefined;
  // Called once the socket is done with a buffer: the next read may fill it, or the pool keep it.
  const giveBack = (buffer: ArrayBuffer) => {
    if (finished) return pool.give(buffer);
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
      if (done || exchange.aborted) {
        if (value) free.push(new Uint8Array(value.buffer as ArrayBuffer));
        break;
      }
      exchange.bytes += value.byteLength;
      res.write(value, () => giveBack(value.buffer as ArrayBuffer));
    }
  } finally {
    finished = true;
    for (const buffer of free) pool.give(buffer.buffer as ArrayBuffer);
    res.off("close", onClose);
    await releaseReader(reader, exchange);
  }
}

/**
 * Done with the body: if the client left, cancel it (a file stream closes its file) even when it
 * left before `onAbort` was set, which then found nothing to cancel; otherwise just unlock it.
 */
async function releaseReader(reader: ReadableStreamDefaultReader<Uint8Array> | ReadableStreamBYOBReader, exchange: Exchange) {
  if (exchange.aborted) await reader.cancel().catch(() => {});
  reader.releaseLock();
}

function isByteStream(body: ReadableStream<Uint8Array>): boolean {
  try {
    body.getReader({ mode: "byob" }).releaseLock();
    return true;
  } catch {
    return false; // not a byte stream: only default readers
  }
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
