import { close, read } from "node:fs";
import { promisify } from "node:util";

const readAt = promisify(read);
const closeFd = promisify(close);

/** Chunk size for readers that bring no buffer of their own (hashing a part, tests). */
const AUTO_CHUNK = 1024 * 1024;

/**
 * Bytes [start, start + length) of the open file `fd` as a Web byte stream, which closes it
 * when it ends, fails or is cancelled. A byte stream lets the reader bring its own buffer
 * (a BYOB reader): the Node http adapter reads a pulled blob into a few buffers it reuses,
 * so a 1 GiB pull allocates 8 MiB, not 1 GiB of fresh memory. Readers without buffers get
 * freshly allocated 1 MiB chunks, as from a plain stream.
 */
export function fileByteStream(fd: number, start: number, length: number): ReadableStream<Uint8Array> {
  let position = start;
  const end = start + length;
  let closed = false;
  const closeFile = async () => {
    if (closed) return;
    closed = true;
    await closeFd(fd);
  };
  return new ReadableStream({
    type: "bytes",
    autoAllocateChunkSize: AUTO_CHUNK,
    async pull(controller) {
      // With autoAllocateChunkSize, every pull has a byobRequest to fill.
      const request = controller.byobRequest!;
      const view = request.view as Uint8Array;
      const want = Math.min(view.byteLength, end - position);
      try {
        const { bytesRead } = want > 0 ? await readAt(fd, view, 0, want, position) : { bytesRead: 0 };
        position += bytesRead;
        if (bytesRead === 0 || position >= end) {
          await closeFile();
          // Fewer bytes than promised means the file shrank under us: fail, never a short blob.
          if (position < end) throw new Error(`file ended at ${position}, expected ${end} bytes`);
          if (bytesRead > 0) request.respond(bytesRead);
          controller.close();
          if (bytesRead === 0) request.respond(0);
          return;
        }
        request.respond(bytesRead);
      } catch (error) {
        await closeFile().catch(() => {});
        throw error;
      }
    },
    cancel: closeFile,
  });
}
