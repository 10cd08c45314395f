import { finished } from "node:stream/promises";
import type { Readable, Writable } from "node:stream";

const HIGH_WATER_MARK = 1024 * 1024;

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
        onData = (chunk: Buffer) => {
          if (counter) counter.bytes += chunk.byteLength;
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

/** Write a Web stream into a Node Writable with backpressure, then end it and wait for it to finish. */
export async function writeWebStream(source: ReadableStream<Uint8Array>, output: Writable): Promise<void> {
  // No Promise.race against a long-lived "failed" promise here: every race would leave a
  // reaction on it holding that chunk, and a 1 GiB push would stay in memory.
  let failure: unknown;
  output.on("error", (error) => (failure ??= error));
  const reader = source.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (failure) throw failure;
      if (done) break;
      if (!output.write(value)) await nextEvent(output, "drain");
    }
    output.end();
    await nextEvent(output, "finish");
  } catch (error) {
    await reader.cancel(error).catch(() => {});
    // Wait for the close, so a caller removing the file does not race a late open.
    const closed = finished(output).catch(() => {});
    output.destroy();
    await closed;
    throw error;
  } finally {
    reader.releaseLock();
  }
}

/** Resolve on `event`; reject if the stream errors or closes first. Cleans up its listeners. */
function nextEvent(stream: Writable, event: "drain" | "finish"): Promise<void> {
  return new Promise((resolve, reject) => {
    const settle = (error?: unknown) => {
      stream.off(event, onEvent).off("error", onError).off("close", onClose);
      if (error) reject(error);
      else resolve();
    };
    const onEvent = () => settle();
    const onError = (error: unknown) => settle(error);
    const onClose = () => settle(new Error(`stream closed before ${event}`));
    stream.on(event, onEvent).on("error", onError).on("close", onClose);
  });
}
