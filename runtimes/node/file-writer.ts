import { close, open, write, writev } from "node:fs";
import { promisify } from "node:util";

const openFile = promisify(open);
const closeFile = promisify(close);
const writeAt = promisify(write);
const writevAt = promisify(writev);

/** Size of a write: a request body's 64 KiB chunks are gathered into slabs this big. */
export const SLAB_BYTES = 1024 * 1024;
/** Bodies up to this size are written from the chunks they came in, without taking slabs. */
const SMALL_BODY = 64 * 1024;
/** Free slabs kept for the next write: a byte bound, so idle memory stays small. */
const POOL_BYTES = 4 * SLAB_BYTES;
const pool: Uint8Array[] = [];

const takeSlab = () => pool.pop() ?? new Uint8Array(SLAB_BYTES);
const giveBack = (slab: Uint8Array) => void ((pool.length + 1) * SLAB_BYTES <= POOL_BYTES && pool.push(slab));

/**
 * Write a Web stream to a new file at `path`; resolves with the bytes written once the file
 * is closed. Why not fs.WriteStream: each chunk of a request body is a fresh 64 KiB buffer
 * from node:http, and a stream keeps it until its write completes, long enough for V8 to
 * move it to the old generation, where only a full mark-compact frees it. A 1 GiB push then
 * held ~30 MiB of dead buffers at a time and ran ~45 mark-compacts. Here each chunk is copied
 * into one of two reused 1 MiB slabs as soon as it arrives (it dies young, cheaply), one slab
 * fills while the other is written, and the disk sees 1 MiB writes.
 */
export async function writeStreamToFile(path: string, body: ReadableStream<Uint8Array>): Promise<number> {
  const reader = body.getReader();
  let fd: number | undefined;
  const slabs: Uint8Array[] = [];
  let writing: Promise<unknown> | undefined;
  try {
    fd = await openFile(path, "w");
    const file = fd;
    let position = 0;
    let held: Uint8Array[] = [];
    let heldBytes = 0;
    let slab: Uint8Array | undefined;
    let fill = 0;
    const flush = async () => {
      await writing; // the other slab is free again once its write is done
      const full = slab!;
      const length = fill;
      writing = writeFully(file, full, length, position);
      writing.catch(() => {}); // awaited at the next flush or the end; not an unhandled rejection meanwhile
      position += length;
      slab = slabs.find((s) => s !== full) ?? (slabs.push(takeSlab()), slabs.at(-1)!);
      fill = 0;
    };
    const copy = async (chunk: Uint8Array) => {
      for (let offset = 0; offset < chunk.byteLength; ) {
        const n = Math.min(SLAB_BYTES - fill, chunk.byteLength - offset);
        slab!.set(n === chunk.byteLength ? chunk : chunk.subarray(offset, offset + n), fill);
        fill += n;
        offset += n;
        if (fill === SLAB_BYTES) await flush();
      }
    };
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (slab) {
        await copy(value);
        continue;
      }
      held.push(value);
      heldBytes += value.byteLength;
      if (heldBytes > SMALL_BODY) {
        slabs.push((slab = takeSlab()));
        for (const chunk of held) await copy(chunk);
        held = [];
      }
    }
    if (slab) {
      if (fill > 0) await flush();
      await writing;
    } else if (heldBytes > 0) {
      await writevFully(file, held, position);
      position += heldBytes;
    }
    return position;
  } catch (error) {
    await reader.cancel(error).catch(() => {});
    await writing?.catch(() => {});
    throw error;
  } finally {
    reader.releaseLock();
    // Closed before returning or throwing, so a caller removing the file does not race it.
    if (fd !== undefined) await closeFile(fd);
    for (const slab of slabs) giveBack(slab);
  }
}

async function writeFully(fd: number, buffer: Uint8Array, length: number, position: number): Promise<void> {
  for (let done = 0; done < length; ) {
    const { bytesWritten } = await writeAt(fd, buffer, done, length - done, position + done);
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
