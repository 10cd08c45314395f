import type { Readable } from "node:stream";
import { countBodyBytes, countOpenBodies } from "./young-garbage.ts";

const HIGH_WATER_MARK = 256 * 1024;

/**
 * A request body (a Node Readable) as a Web ReadableStream, without copying. Node's own
 * Readable.toWeb copies every chunk (it cannot know the Buffer is not from a shared pool); request
 * bodies and file reads here come in freshly allocated buffers, so views are safe, and
 * the copies were a large share of a push's CPU time.
 */
export function readableToWeb(readable: Readable, counter?: { bytes: number }): ReadableStream<Uint8Array> {
  let onData = (_chunk: Buffer) => {};
  let cancelled = false; // a cancelled stream's controller throws on close: events after it are dropped
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        readable.pause();
        countOpenBodies(1);
        readable.once("close", () => countOpenBodies(-1));
        onData = (chunk: Buffer) => {
          if (counter) counter.bytes += chunk.byteLength;
          countBodyBytes(chunk.byteLength);
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
          if ((controller.desiredSize ?? 0) <= 0) readable.pause();
        };
        readable.on("data", onData);
        readable.once("end", () => cancelled || controller.close());
        readable.once("error", (error) => cancelled || controller.error(error));
        // A request whose client went away ends with "close" but no "end": fail the stream.
        readable.once("close", () => {
          if (!readable.readableEnded && !cancelled) controller.error(new Error("stream closed before its end"));
        });
      },
      pull() {
        readable.resume();
      },
      cancel() {
        // Stop reading, never destroy: destroying a request resets the connection under the
        // answer the handler is about to send (a 413, a 416), and the client sees the reset.
        // The adapter reads and drops the rest (http-adapter.ts, discardBody).
        cancelled = true;
        readable.off("data", onData);
        readable.pause();
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: HIGH_WATER_MARK }),
  );
}
