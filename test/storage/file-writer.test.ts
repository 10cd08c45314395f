import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { writeStreamToFile } from "../../runtimes/node/file-writer.ts";
import { SLAB_BYTES } from "../../runtimes/shared/slab-writer.ts";

const dir = mkdtempSync(join(tmpdir(), "berth-file-writer-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A stream of `bytes` cut into pieces of the given sizes (repeating the last), optionally failing after `failAfter` bytes. */
function pieces(bytes: Uint8Array, sizes: number[], failAfter?: number): ReadableStream<Uint8Array> {
  let offset = 0;
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (failAfter !== undefined && offset >= failAfter) return controller.error(new Error("client went away"));
      if (offset >= bytes.byteLength) return controller.close();
      const size = sizes[Math.min(i++, sizes.length - 1)]!;
      controller.enqueue(bytes.slice(offset, offset + size)); // a copy, as a socket gives
      offset += size;
    },
  });
}

describe("writeStreamToFile (Node's file writer: chunks gathered into reused 1 MiB slabs)", () => {
  const cases: Array<[string, number, number[]]> = [
    ["an empty body", 0, [1]],
    ["a small body in one chunk", 300, [300]],
    ["a small body in odd chunks", 64 * 1024, [1000, 7]],
    ["exactly one slab", SLAB_BYTES, [65_536]],
    ["one byte past a slab", SLAB_BYTES + 1, [65_534]],
    ["several slabs from 64 KiB chunks", 5 * SLAB_BYTES + 12_345, [65_536]],
    ["chunks bigger than a slab", 3 * SLAB_BYTES + 5, [SLAB_BYTES + 3, 2 * SLAB_BYTES + 1]],
  ];
  for (const [what, size, sizes] of cases) {
    it(`writes ${what} (${size} bytes) byte for byte and returns its length`, async () => {
      const bytes = randomBytes(size);
      const path = join(dir, `f-${size}-${sizes.join("-")}`);
      expect(await writeStreamToFile(path, pieces(bytes, sizes))).toBe(size);
      expect(Buffer.compare(readFileSync(path), bytes)).toBe(0);
    });
  }

  it("rejects with the body's error when it fails midway, after closing the file", async () => {
    const bytes = randomBytes(4 * SLAB_BYTES);
    const path = join(dir, "failing");
    await expect(writeStreamToFile(path, pieces(bytes, [65_536], 2 * SLAB_BYTES + 100))).rejects.toThrow("client went away");
    // The slabs went back to the pool: the next write is still byte for byte.
    const again = randomBytes(3 * SLAB_BYTES + 7);
    expect(await writeStreamToFile(join(dir, "after"), pieces(again, [65_536]))).toBe(again.byteLength);
    expect(Buffer.compare(readFileSync(join(dir, "after")), again)).toBe(0);
  });

  it("rejects when the file cannot be opened, and cancels the body", async () => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({ cancel: () => void (cancelled = true) });
    await expect(writeStreamToFile(join(dir, "missing-dir", "f"), body)).rejects.toMatchObject({ code: "ENOENT" });
    expect(cancelled).toBe(true);
  });
});
