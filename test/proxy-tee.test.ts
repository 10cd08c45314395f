/**
 * The bounded tee of the pull-through cache (src/proxy/tee.ts): a branch that does not read
 * holds the source back (memory stays bounded), a cancelled branch lets the other go on, and
 * when every branch is cancelled the source is cancelled too.
 */
import { describe, expect, it } from "vitest";
import { teeBounded } from "../src/proxy/tee.ts";

const CHUNK = 64 * 1024;

function countingSource(total: number) {
  const state = { produced: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (state.produced >= total) return controller.close();
      state.produced += CHUNK;
      controller.enqueue(new Uint8Array(CHUNK));
    },
    cancel() {
      state.cancelled = true;
    },
  }, { highWaterMark: 0 });
  return { stream, state };
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<number> {
  let bytes = 0;
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) bytes += chunk.byteLength;
  return bytes;
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

describe("teeBounded", () => {
  it("a branch nobody reads holds the source back to about its high-water mark", async () => {
    const { stream, state } = countingSource(64 * 1024 * 1024);
    const [fast, stalled] = teeBounded(stream, 2, 1024 * 1024);
    const reader = fast!.getReader();
    let read = 0;
    let pending = reader.read();
    for (;;) {
      const next = await Promise.race([pending, settle().then(() => null)]);
      if (!next || next.done) break; // stuck: the stalled branch is full
      read += next.value.byteLength;
      pending = reader.read();
    }
    expect(state.produced).toBeLessThanOrEqual(1024 * 1024 + 2 * CHUNK);
    expect(read).toBeGreaterThanOrEqual(1024 * 1024 - CHUNK);
    // Cancel the stalled branch (a client that went away): the other reads to the end.
    await stalled!.cancel();
    const last = await pending;
    if (!last.done) read += last.value.byteLength;
    reader.releaseLock();
    expect(read + (await readAll(fast!))).toBe(64 * 1024 * 1024);
    expect(state.cancelled).toBe(false);
  });

  it("both branches get every byte, in order", async () => {
    const source = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 100; i++) controller.enqueue(new Uint8Array([i]));
        controller.close();
      },
    });
    const branches = teeBounded(source, 2, 10);
    const collect = async (s: ReadableStream<Uint8Array>) => {
      const out: number[] = [];
      for await (const chunk of s as unknown as AsyncIterable<Uint8Array>) out.push(...chunk);
      return out;
    };
    const [a, b] = await Promise.all(branches.map(collect));
    expect(a).toEqual([...Array(100).keys()]);
    expect(b).toEqual(a);
  });

  it("cancelling every branch cancels the source; a source error errors both", async () => {
    const { stream, state } = countingSource(8 * 1024 * 1024);
    const [a, b] = teeBounded(stream, 2);
    await a!.cancel();
    await b!.cancel();
    expect(state.cancelled).toBe(true);

    const failing = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.error(new Error("upstream died"));
      },
    });
    const [c, d] = teeBounded(failing, 2);
    await expect(readAll(c!)).rejects.toThrow("upstream died");
    await expect(readAll(d!)).rejects.toThrow("upstream died");
  });

  it("a source that stalls fails both branches after the idle time; a branch slower than that does not", async () => {
    let sent = 0;
    const stalling = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 2) controller.enqueue(new Uint8Array(10));
        return new Promise(() => {}); // then nothing, ever (a hung upstream)
      },
    });
    const started = Date.now();
    const [a, b] = teeBounded(stalling, 2, 1024, { ms: 200, error: () => new Error("stalled") });
    await expect(readAll(a!)).rejects.toThrow("stalled");
    await expect(readAll(b!)).rejects.toThrow("stalled");
    expect(Date.now() - started).toBeLessThan(2000);

    const { stream } = countingSource(4 * CHUNK);
    const [fast, slow] = teeBounded(stream, 2, CHUNK, { ms: 100, error: () => new Error("stalled") });
    const slowRead = (async () => {
      let bytes = 0;
      for await (const chunk of slow as unknown as AsyncIterable<Uint8Array>) {
        bytes += chunk.byteLength;
        await new Promise((resolve) => setTimeout(resolve, 150)); // slower than the idle time
      }
      return bytes;
    })();
    expect(await Promise.all([readAll(fast!), slowRead])).toEqual([4 * CHUNK, 4 * CHUNK]);
  });
});

