import { close, open, write, writev } from "node:fs";
import { promisify } from "node:util";
import { writeStreamInSlabs } from "../shared/slab-writer.ts";

const openFile = promisify(open);
const closeFile = promisify(close);
const writeAt = promisify(write);
const writevAt = promisify(writev);

/**
 * Write a Web stream to a new file at `path` in 1 MiB slabs (runtimes/shared/slab-writer.ts);
 * resolves with the bytes written once the file is closed. Not fs.WriteStream: it keeps each
 * 64 KiB body chunk until its write completes, long enough to need a mark-compact to free it.
 */
export async function writeStreamToFile(path: string, body: ReadableStream<Uint8Array>): Promise<number> {
  let fd: number | undefined;
  try {
    fd = await openFile(path, "w");
    const file = fd;
    return await writeStreamInSlabs(body, {
      write: (bytes, position) => writeFully(file, bytes, position),
      writeChunks: (chunks, position) => writevFully(file, chunks, position),
    });
  } catch (error) {
    if (fd === undefined) await body.cancel(error).catch(() => {});
    throw error;
  } finally {
    // Closed before returning or throwing, so a caller removing the file does not race it.
    if (fd !== undefined) await closeFile(fd);
  }
}

async function writeFully(fd: number, bytes: Uint8Array, position: number): Promise<void> {
  for (let done = 0; done < bytes.byteLength; ) {
    const { bytesWritten } = await writeAt(fd, bytes, done, bytes.byteLength - done, position + done);
    done += bytesWritten;
  }
}

async function writevFully(fd: number, chunks: Uint8Array[], position: number): Promise<void> {
  let left = chunks;
  while (left.length) {
    const { bytesWritten } = await writevAt(fd, left as NodeJS.ArrayBufferView[], position);
    position += bytesWritten;
    let skip = bytesWritten;
    const rest: Uint8Array[] = [];
    for (const chunk of left) {
      if (skip >= chunk.byteLength) skip -= chunk.byteLength;
      else {
        rest.push(skip ? chunk.subarray(skip) : chunk);
        skip = 0;
      }
    }
    left = rest;
  }
}
