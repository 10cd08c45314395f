/**
 * The slab writer both file stores use (runtimes/shared/slab-writer.ts), against a sink whose
 * writes finish when the test says: the body is read on while a slab is being written, never
 * two writes at once, and a slab being written is not touched.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { SLAB_BYTES, writeStreamInSlabs, type SlabSink } from "../../runtimes/shared/slab-writer.ts";

const CHUNK = 64 * 1024;

/** `bytes` in 64 KiB chunks, counting how many chunks the writer has pulled. */
function counted(bytes: Uint8Array): { body: ReadableStream<Uint8Array>; pulled: () => number } {
  let offset = 0;
  let pulls = 0;
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (offset >= bytes.byteLength) return controller.close();
        pulls++;
        controller.enqueue(bytes.slice(offset, offset + CHUNK));
        offset += CHUNK;
      },
    },
    { highWaterMark: 0 }, // pulled only when the writer reads: `pulled` is what it asked for
  );
  return { body, pulled: () => pulls };
}

/** A sink that holds every write until `finish()`; records what each write was handed and what it held at the end. */
function heldSink() {
  const writes: Array<{ position: number; atStart: Buffer; bytes: Uint8Array; finish: () => void }> = [];
  let inFlight = 0;
  let mostInFlight = 0;
  const sink: SlabSink = {
    write: (bytes, position) =>
      new Promise<void>((resolve) => {
        mostInFlight = Math.max(mostInFlight, ++inFlight);
        writes.push({ position, atStart: Buffer.from(bytes), bytes, finish: () => (inFlight--, resolve()) });
      }),
    writeChunks: async () => {
      throw new Error("a big body is not written as chunks");
    },
  };
  return { sink, writes, mostInFlight: () => mostInFlight };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe("writeStreamInSlabs (1 MiB slabs, one filling while the other is written)", () => {
  it("reads the next slab's worth of body while a write is in flight, then waits; one write at a time; a slab is untouched while written", async () => {
    const bytes = randomBytes(4 * SLAB_BYTES);
    const { body, pulled } = counted(bytes);
    const { sink, writes, mostInFlight } = heldSink();
    const done = writeStreamInSlabs(body, sink);

    await settle();
    const perSlab = SLAB_BYTES / CHUNK;
    expect(writes.length).toBe(1); // the first slab is being written...
    expect(pulled()).toBe(2 * perSlab); // ...and the second filled meanwhile, and no more
    for (let i = 0; i < 4; i++) {
      await settle();
      expect(writes.length).toBe(i + 1); // the next write waits for this one
      expect(Buffer.from(writes[i]!.bytes).equals(writes[i]!.atStart)).toBe(true); // reading on did not touch it
      writes[i]!.finish();
    }
    expect(await done).toBe(bytes.byteLength);
    expect(mostInFlight()).toBe(1);
    expect(writes.map((w) => w.position)).toEqual([0, 1, 2, 3].map((i) => i * SLAB_BYTES));
    expect(Buffer.concat(writes.map((w) => w.atStart)).equals(bytes)).toBe(true);
  });

  it("a failing write fails the whole write, cancels the body, and starts no write after it", async () => {
    let cancelled: unknown;
    const body = new ReadableStream<Uint8Array>({
      pull: (controller) => controller.enqueue(new Uint8Array(CHUNK)),
      cancel: (reason) => void (cancelled = reason),
    });
    let calls = 0;
    const sink: SlabSink = {
      write: async () => {
        if (++calls === 2) throw new Error("disk full");
      },
      writeChunks: async () => {},
    };
    await expect(writeStreamInSlabs(body, sink)).rejects.toThrow("disk full");
    expect(calls).toBe(2);
    expect((cancelled as Error).message).toBe("disk full");
  });

  it("a small body goes to the sink as the chunks it came in, in one call", async () => {
    const calls: Array<{ chunks: number; position: number; bytes: Buffer }> = [];
    const sink: SlabSink = {
      write: async () => {
        throw new Error("a small body takes no slab");
      },
      writeChunks: async (chunks, position) => void calls.push({ chunks: chunks.length, position, bytes: Buffer.concat(chunks) }),
    };
    const bytes = randomBytes(CHUNK - 10);
    expect(await writeStreamInSlabs(counted(bytes).body, sink)).toBe(bytes.byteLength);
    expect(calls).toEqual([{ chunks: 1, position: 0, bytes }]);
  });
});
