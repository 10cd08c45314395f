import { BufferPool } from "./buffer-pool.ts";

/** Size of a write: a request body's 64 KiB chunks are gathered into slabs this big. */
export const SLAB_BYTES = 1024 * 1024;
/** Bodies up to this size are written from the chunks they came in, without taking slabs. */
const SMALL_BODY = 64 * 1024;
/** Free slabs kept for the next write (four: two uploads at a time). */
const pool = new BufferPool(SLAB_BYTES, 4 * SLAB_BYTES);

const takeSlab = () => new Uint8Array(pool.take() ?? new ArrayBuffer(SLAB_BYTES));

/** A new file's writes, in order, one at a time: each resolves once all its bytes are written. */
export interface SlabSink {
  /** All of `bytes` at `position`; the caller leaves `bytes` alone until this settles. */
  write(bytes: Uint8Array, position: number): Promise<void>;
  /** A small body's chunks as they came (one writev where the runtime has it), at `position`. */
  writeChunks(chunks: Uint8Array[], position: number): Promise<void>;
}

/**
 * Write a Web stream into `sink`; resolves with the bytes written. The runtime's store opens
 * and closes the file (runtimes/node/file-writer.ts, runtimes/deno/deno-store.ts).
 *
 * Why slabs: each chunk of a request body is a fresh 64 KiB buffer from node:http, and a
 * writer that keeps it until its write completes keeps it long enough for V8 to move it to
 * the old generation, where only a full mark-compact frees it (a 1 GiB push on Node held ~30
 * MiB of dead buffers at a time and ran ~45 mark-compacts). Here each chunk is copied into
 * one of two reused 1 MiB slabs as soon as it arrives (it dies young, cheaply) and the disk
 * sees 1 MiB writes.
 *
 * Why two: one slab fills while the other is written, so reading the socket and hashing go
 * on during a write. Waiting for each write before reading on (Deno's store did) adds the
 * page-cache copy's time to every MiB: Deno pushed at ~0.65x Node's in both page regimes.
 */
export async function writeStreamInSlabs(body: ReadableStream<Uint8Array>, sink: SlabSink): Promise<number> {
  const reader = body.getReader();
  const slabs: Uint8Array[] = [];
  let writing: Promise<unknown> | undefined;
  try {
    let position = 0;
    let held: Uint8Array[] = [];
    let heldBytes = 0;
    let slab: Uint8Array | undefined;
    let fill = 0;
    const flush = async () => {
      await writing; // the other slab is free again once its write is done
      const full = slab!;
      writing = sink.write(full.subarray(0, fill), position);
      writing.catch(() => {}); // awaited at the next flush or the end; not an unhandled rejection meanwhile
      position += fill;
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
      await sink.writeChunks(held, position);
      position += heldBytes;
    }
    return position;
  } catch (error) {
    await reader.cancel(error).catch(() => {});
    await writing?.catch(() => {}); // a slab goes back to the pool only once no write reads it
    throw error;
  } finally {
    reader.releaseLock();
    for (const slab of slabs) pool.give(slab.buffer as ArrayBuffer);
  }
}
