/** Chunk size for readers that bring no buffer of their own (hashing a part, tests). */
const AUTO_CHUNK = 1024 * 1024;

/**
 * `length` bytes of an open file as a Web byte stream, for Node's and Deno's stores alike
 * (they differ only in `read` and `close`). A byte stream lets the reader bring its own buffer
 * (a BYOB reader): the HTTP adapter reads a pulled blob into a few buffers it reuses
 * (runtimes/shared/send-body.ts), one `read` per buffer, so a 1 GiB pull reuses two pooled
 * 2 MiB buffers instead of faulting in 1 GiB of fresh memory. Readers without buffers get
 * freshly allocated 1 MiB chunks.
 * `read(into, offset)` fills the start of `into` with the bytes at `offset` of the range and
 * returns how many it read (0 at the file's end); the file is closed once, when the stream ends,
 * fails or is cancelled. A file shorter than `length` fails the stream: never a short blob.
 */
export function fileRangeStream(length: number, read: (into: Uint8Array, offset: number) => Promise<number>, close: () => unknown): ReadableStream<Uint8Array> {
  let offset = 0;
  let closed = false;
  const closeOnce = async () => {
    if (closed) return;
    closed = true;
    await close();
  };
  return new ReadableStream({
    type: "bytes",
    autoAllocateChunkSize: AUTO_CHUNK,
    async pull(controller) {
      // With autoAllocateChunkSize, every pull has a byobRequest to fill.
      const request = controller.byobRequest!;
      const view = request.view as Uint8Array;
      const want = Math.min(view.byteLength, length - offset);
      try {
        const bytesRead = want > 0 ? await read(view.subarray(0, want), offset) : 0;
        offset += bytesRead;
        if (bytesRead === 0 || offset >= length) {
          await closeOnce();
          if (offset < length) throw new Error(`file ended ${length - offset} bytes short of ${length}`);
          if (bytesRead > 0) request.respond(bytesRead);
          controller.close();
          if (bytesRead === 0) request.respond(0);
          return;
        }
        request.respond(bytesRead);
      } catch (error) {
        await closeOnce().catch(() => {});
        throw error;
      }
    },
    cancel: closeOnce,
  });
}
