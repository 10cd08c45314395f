/**
 * The BlobStore contract (src/storage/blob-store.ts), one suite every store must pass, in
 * the spirit of distribution's storage driver testsuites. A store test file calls
 * `describeBlobStoreContract(name, factory)`; each test gets a fresh, empty store.
 */
import { createHash } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { NotFoundError, type BlobStore } from "../../src/storage/blob-store.ts";
import { readBytes } from "../../src/streams.ts";

export interface StoreUnderTest {
  store: BlobStore;
  cleanup(): Promise<void>;
}

export interface ContractOptions {
  /** Size of the large streamed object test; default 8 MiB. */
  largeObjectBytes?: number;
  /**
   * The store lives in another process (store-rpc): a failing body stream cannot reach it
   * as the same Error object, so put must reject, but not necessarily with that object.
   */
  errorsCrossProcess?: boolean;
  /** Timeout of the heavy tests (large object, large concat, many keys); default scales with largeObjectBytes. */
  slowTimeoutMs?: number;
}

const encoder = new TextEncoder();
const text = (s: string): Uint8Array<ArrayBuffer> => encoder.encode(s);
const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/** Length and sha256 of some bytes: compares large arrays fast and prints readably. */
export const fingerprint = (bytes: Uint8Array | null | undefined): string | null =>
  bytes ? `${bytes.byteLength} bytes ${sha(bytes)}` : null;

export function randomBytes(size: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) crypto.getRandomValues(out.subarray(i, Math.min(size, i + 65536)));
  return out;
}

export async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream as ReadableStream<Uint8Array<ArrayBuffer>>).arrayBuffer());
}

/** A stream of `chunks`; errors with `error` after them when given. */
export function streamOf(chunks: Uint8Array[], error?: Error): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(chunks[i++]!);
      else if (error) controller.error(error);
      else controller.close();
    },
  });
}

/** A stream the test feeds by hand: `push`, then `end` or `fail`. */
function manualStream() {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const stream = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
  return {
    stream,
    push: (bytes: Uint8Array) => controller.enqueue(bytes),
    end: () => controller.close(),
    fail: (error: Error) => controller.error(error),
  };
}

const tick = (ms = 20) => new Promise((r) => setTimeout(r, ms));

export function describeBlobStoreContract(
  name: string,
  factory: () => Promise<StoreUnderTest>,
  options: ContractOptions = {},
): void {
  const largeBytes = options.largeObjectBytes ?? 8 * 1024 * 1024;
  const slow = options.slowTimeoutMs ?? Math.max(60_000, Math.ceil(largeBytes / (8 << 20)) * 60_000);
  describe(`BlobStore contract: ${name}`, () => {
    let current: StoreUnderTest | undefined;
    let store: BlobStore;
    beforeEach(async () => {
      current = await factory();
      store = current.store;
    });
    afterEach(async () => {
      await current?.cleanup();
      current = undefined;
    });

    const value = async (key: string) => {
      const got = await store.get(key);
      return got ? readAll(got.body) : null;
    };

    describe("head", () => {
      it("head(missing) -> null", async () => {
        expect(await store.head("nothing/here")).toBeNull();
      });
      it("head(key) -> {size} after put, including size 0", async () => {
        await store.put("a/b/c", text("hello"));
        await store.put("a/empty", new Uint8Array(0));
        expect(await store.head("a/b/c")).toMatchObject({ size: 5 });
        expect(await store.head("a/empty")).toMatchObject({ size: 0 });
      });
      // Garbage collection tells young objects from old ones by this time (src/lifecycle).
      it("head(key).modifiedMs is when the key was last written, by put or by concat", async () => {
        const slack = 2000; // store clocks (file mtime, R2) may round or differ a little from ours
        const before = Date.now();
        await store.put("t/one", text("x"));
        const first = (await store.head("t/one"))!.modifiedMs;
        expect(first).toBeGreaterThanOrEqual(before - slack);
        expect(first).toBeLessThanOrEqual(Date.now() + slack);
        await store.put("t/part", text("part"));
        await tick(1100); // past a one-second mtime granularity
        const rewritten = Date.now();
        await store.put("t/one", text("y"));
        expect((await store.head("t/one"))!.modifiedMs).toBeGreaterThanOrEqual(rewritten - slack);
        expect((await store.head("t/one"))!.modifiedMs).toBeGreaterThan(first);
        // One source: a store may rename, but the destination is written now, not when the part was.
        const concatenated = Date.now();
        await store.concat(["t/part"], "t/joined");
        const joined = (await store.head("t/joined"))!.modifiedMs;
        // 1 s of slack: S3's Last-Modified is an HTTP date (whole seconds); the part is 1.1 s older.
        expect(joined).toBeGreaterThanOrEqual(concatenated - 1000);
        expect(joined).toBeLessThanOrEqual(Date.now() + slack);
      });
      it("head of a key's parent path (not itself a key) -> null", async () => {
        await store.put("dir/leaf", text("x"));
        expect(await store.head("dir")).toBeNull();
      });
    });

    describe("get", () => {
      it("get(missing) -> null, with or without a range", async () => {
        expect(await store.get("nope")).toBeNull();
        expect(await store.get("nope/deeper", { offset: 0, length: 1 })).toBeNull();
      });
      it("get(key) streams the whole object with its size", async () => {
        const bytes = randomBytes(100_000);
        await store.put("blobs/x", bytes);
        const got = await store.get("blobs/x");
        expect(got!.size).toBe(100_000);
        expect(fingerprint(await readAll(got!.body))).toBe(fingerprint(bytes));
      });
      it("get(key, range) streams exactly that range; size stays the whole object's", async () => {
        const bytes = randomBytes(1000);
        await store.put("r", bytes);
        for (const [offset, length] of [[0, 1], [10, 90], [999, 1], [0, 1000], [500, 500]] as const) {
          const got = await store.get("r", { offset, length });
          expect(got!.size).toBe(1000);
          expect(fingerprint(await readAll(got!.body))).toBe(fingerprint(bytes.slice(offset, offset + length)));
        }
      });
      it("get(key) of sizes around 64 KiB (where stores switch read strategies) returns each whole", async () => {
        for (const size of [65535, 65536, 65537]) {
          const bytes = randomBytes(size);
          await store.put(`edge/${size}`, bytes);
          const got = await store.get(`edge/${size}`);
          expect(got!.size).toBe(size);
          expect(fingerprint(await readAll(got!.body))).toBe(fingerprint(bytes));
        }
      });
      it("get of a small object or range: bytes offered whole, if any, equal the stream", async () => {
        const bytes = randomBytes(3000);
        await store.put("small", bytes);
        for (const range of [undefined, { offset: 1000, length: 24 }, { offset: 0, length: 0 }]) {
          const expected = range ? bytes.slice(range.offset, range.offset + range.length) : bytes;
          const got = await store.get("small", range);
          expect(got!.size).toBe(3000);
          if (got!.bytes) expect(fingerprint(got!.bytes)).toBe(fingerprint(expected));
          expect(fingerprint(await readAll(got!.body))).toBe(fingerprint(expected));
          expect(fingerprint(await readBytes((await store.get("small", range))!))).toBe(fingerprint(expected));
        }
      });
      it("get of an empty object -> size 0, empty stream", async () => {
        await store.put("zero", new Uint8Array(0));
        const got = await store.get("zero");
        expect(got!.size).toBe(0);
        expect((await readAll(got!.body)).byteLength).toBe(0);
      });
      it("a body cancelled unread does not disturb later operations", async () => {
        await store.put("c", randomBytes(3 * 1024 * 1024));
        const got = await store.get("c");
        await got!.body.cancel();
        await store.delete("c");
        expect(await store.head("c")).toBeNull();
        await store.put("c", text("again"));
        expect(fingerprint(await value("c"))).toBe(fingerprint(text("again")));
      });
      it("a reader that started before an overwrite reads one whole version", async () => {
        const old = randomBytes(2 * 1024 * 1024);
        const next = randomBytes(2 * 1024 * 1024);
        await store.put("v", old);
        const reading = await store.get("v");
        await store.put("v", next);
        const seen = await readAll(reading!.body);
        expect([sha(old), sha(next)]).toContain(sha(seen));
        expect(fingerprint(await value("v"))).toBe(fingerprint(next));
      });
    });

    describe("put", () => {
      it("put(Uint8Array) returns the byte count and stores the bytes", async () => {
        expect(await store.put("k", text("abc"))).toBe(3);
        expect(fingerprint(await value("k"))).toBe(fingerprint(text("abc")));
      });
      it("put(ReadableStream) of many chunks returns the byte count", async () => {
        const chunks = Array.from({ length: 50 }, (_, i) => randomBytes(1000 + i));
        const total = chunks.reduce((n, c) => n + c.byteLength, 0);
        expect(await store.put("s/t/r/e/a/m", streamOf(chunks), { size: total })).toBe(total);
        const got = await store.get("s/t/r/e/a/m");
        expect(got!.size).toBe(total);
        const all = await readAll(got!.body);
        expect(sha(all)).toBe(sha(new Uint8Array(await new Blob(chunks as BlobPart[]).arrayBuffer())));
      });
      it("put over an existing key replaces it", async () => {
        await store.put("k", text("first value, longer"));
        await store.put("k", text("second"));
        expect(fingerprint(await value("k"))).toBe(fingerprint(text("second")));
        expect(await store.head("k")).toMatchObject({ size: 6 });
      });
      it("put with an erroring stream rejects with that error and stores nothing", async () => {
        const boom = new Error("client went away");
        const failing = store.put("fail/new", streamOf([randomBytes(70_000), randomBytes(70_000)], boom));
        if (options.errorsCrossProcess) await expect(failing).rejects.toThrow();
        else await expect(failing).rejects.toBe(boom);
        expect(await store.head("fail/new")).toBeNull();
        expect(await store.get("fail/new")).toBeNull();
        expect((await store.list("fail/")).keys).toEqual([]);
      });
      it("put with an erroring stream over an existing key keeps the old value", async () => {
        await store.put("fail/old", text("precious"));
        const boom = new Error("aborted");
        const failing = store.put("fail/old", streamOf([randomBytes(50_000)], boom));
        if (options.errorsCrossProcess) await expect(failing).rejects.toThrow();
        else await expect(failing).rejects.toBe(boom);
        expect(fingerprint(await value("fail/old"))).toBe(fingerprint(text("precious")));
        expect((await store.list("fail/")).keys).toEqual(["fail/old"]);
      });
      it("put is atomic: while a put is in flight readers see the old object (or none), listings show no partial key", async () => {
        await store.put("atom/k", text("old"));
        const feed = manualStream();
        const putting = store.put("atom/k", feed.stream);
        feed.push(randomBytes(10_000));
        await tick();
        expect(fingerprint(await value("atom/k"))).toBe(fingerprint(text("old")));
        expect(await value("atom/new")).toBeNull();
        expect((await store.list("atom/")).keys).toEqual(["atom/k"]);
        expect((await store.list("")).keys).toEqual(["atom/k"]);
        const rest = randomBytes(5_000);
        feed.push(rest);
        feed.end();
        expect(await putting).toBe(15_000);
        expect(fingerprint((await value("atom/k"))!.slice(10_000))).toBe(fingerprint(rest));
      });
      it("a new key is invisible until its put completes", async () => {
        const feed = manualStream();
        const putting = store.put("fresh/key", feed.stream);
        feed.push(randomBytes(1000));
        await tick();
        expect(await store.head("fresh/key")).toBeNull();
        expect((await store.list("fresh/")).keys).toEqual([]);
        feed.fail(new Error("gone"));
        await expect(putting).rejects.toThrow(options.errorsCrossProcess ? undefined : "gone");
        expect(await store.head("fresh/key")).toBeNull();
      });
      it("concurrent puts to one key leave one whole value", async () => {
        const a = randomBytes(300_000);
        const b = randomBytes(300_000);
        await Promise.all([
          store.put("race", streamOf([a.slice(0, 100_000), a.slice(100_000)])),
          store.put("race", streamOf([b.slice(0, 150_000), b.slice(150_000)])),
        ]);
        expect([sha(a), sha(b)]).toContain(sha((await value("race"))!));
      });
      it(`put of a large object (${largeBytes / 1024 / 1024} MiB) in 64 KiB chunks streams through intact`, async () => {
        const total = largeBytes;
        const chunk = 64 * 1024;
        const hash = createHash("sha256");
        let sent = 0;
        const stream = new ReadableStream<Uint8Array>({
          pull(controller) {
            if (sent >= total) return controller.close();
            const bytes = randomBytes(Math.min(chunk, total - sent));
            hash.update(bytes);
            sent += bytes.byteLength;
            controller.enqueue(bytes);
          },
        });
        expect(await store.put("big/object", stream, { size: total })).toBe(total);
        expect(await store.head("big/object")).toMatchObject({ size: total });
        const got = await store.get("big/object");
        const readHash = createHash("sha256");
        for await (const part of got!.body as unknown as AsyncIterable<Uint8Array>) readHash.update(part);
        expect(readHash.digest("hex")).toBe(hash.digest("hex"));
        const tail = await store.get("big/object", { offset: total - 10, length: 10 });
        expect((await readAll(tail!.body)).byteLength).toBe(10);
      }, slow);
      it("keys are case-sensitive and may hold '.', '-', '_', ':' in segments", async () => {
        const keys = ["t/Latest", "t/latest", "t/1.0-rc.1", "t/_x", "t/a:b", "t/sha256-abc"];
        for (const key of keys) await store.put(key, text(key));
        for (const key of keys) expect(await value(key)).toEqual(text(key));
      });
      it("a key may be put where a deleted key's parent path was", async () => {
        await store.put("p/q/r", text("deep"));
        await store.delete("p/q/r");
        await store.put("p/q", text("shallow"));
        expect(fingerprint(await value("p/q"))).toBe(fingerprint(text("shallow")));
        await store.delete("p/q");
        await store.put("p/q/r/s", text("deeper"));
        expect(fingerprint(await value("p/q/r/s"))).toBe(fingerprint(text("deeper")));
      });
      it("puts racing deletes in the same directories all succeed (a delete's tidying never fails a put)", async () => {
        // A filesystem store prunes the directories a delete leaves empty; a put in flight into
        // that directory must still land (garbage collection deletes while clients push).
        const keys = ["race/a/x/data", "race/a/y/data", "race/b/x/data"];
        const pick = (i: number) => keys[i % keys.length]!;
        const failures: string[] = [];
        const loop = (n: number, step: (i: number) => Promise<unknown>) => (async () => {
          for (let i = 0; i < 30; i++) await step(n + i).catch((error: Error) => failures.push(error.message));
        })();
        await Promise.all([
          ...Array.from({ length: 6 }, (_, n) => loop(n, (i) => store.put(pick(i), text(`v${i}`)))),
          ...Array.from({ length: 6 }, (_, n) => loop(n, (i) => store.delete(pick(i + 1)))),
        ]);
        expect(failures).toEqual([]);
        for (const key of keys) await store.put(key, text(key));
        for (const key of keys) expect(await value(key)).toEqual(text(key));
      });
    });

    describe("concat", () => {
      it("concat(sources, dest) makes the concatenation available at dest", async () => {
        const parts = [randomBytes(1000), randomBytes(1), new Uint8Array(0), randomBytes(5000)];
        for (const [i, p] of parts.entries()) await store.put(`up/part-${i}`, p);
        await store.concat(parts.map((_, i) => `up/part-${i}`), "blobs/result");
        const got = await store.get("blobs/result");
        expect(got!.size).toBe(6001);
        expect(fingerprint(await readAll(got!.body))).toBe(fingerprint(new Uint8Array(await new Blob(parts as BlobPart[]).arrayBuffer())));
      });
      it("concat of one source (a rename) works", async () => {
        const bytes = randomBytes(4096);
        await store.put("up/only", bytes);
        await store.concat(["up/only"], "blobs/one");
        expect(fingerprint(await value("blobs/one"))).toBe(fingerprint(bytes));
      });
      it("concat over an existing dest replaces it", async () => {
        await store.put("dest", text("old"));
        await store.put("up/a", text("new "));
        await store.put("up/b", text("value"));
        await store.concat(["up/a", "up/b"], "dest");
        expect(fingerprint(await value("dest"))).toBe(fingerprint(text("new value")));
      });
      it("concat of large parts streams (3 x 3 MiB)", async () => {
        const parts = [randomBytes(3 << 20), randomBytes(3 << 20), randomBytes(3 << 20)];
        for (const [i, p] of parts.entries()) await store.put(`up/big-${i}`, p);
        await store.concat(["up/big-0", "up/big-1", "up/big-2"], "blobs/big");
        const all = (await value("blobs/big"))!;
        expect(all.byteLength).toBe(9 << 20);
        expect(sha(all)).toBe(sha(new Uint8Array(await new Blob(parts as BlobPart[]).arrayBuffer())));
      }, slow);
      it("concat with a missing source rejects with NotFoundError and leaves dest as it was", async () => {
        await store.put("up/a", text("a"));
        await store.put("dest/existing", text("keep"));
        await expect(store.concat(["up/a", "up/missing"], "dest/existing")).rejects.toBeInstanceOf(NotFoundError);
        await expect(store.concat(["up/missing"], "dest/new")).rejects.toBeInstanceOf(NotFoundError);
        expect(fingerprint(await value("dest/existing"))).toBe(fingerprint(text("keep")));
        expect(await store.head("dest/new")).toBeNull();
      });
      it("callers may delete the sources after concat; dest is unaffected", async () => {
        await store.put("up/a", text("abc"));
        await store.put("up/b", text("def"));
        await store.concat(["up/a", "up/b"], "blobs/d");
        await store.delete("up/a");
        await store.delete("up/b");
        expect(fingerprint(await value("blobs/d"))).toBe(fingerprint(text("abcdef")));
        expect((await store.list("up/")).keys).toEqual([]);
      });
    });

    describe("delete", () => {
      it("delete(missing) resolves", async () => {
        await expect(store.delete("never/was")).resolves.toBeUndefined();
        await expect(store.delete("x")).resolves.toBeUndefined();
      });
      it("delete(key) removes it from head, get and list; siblings stay", async () => {
        await store.put("d/one", text("1"));
        await store.put("d/two", text("2"));
        await store.delete("d/one");
        expect(await store.head("d/one")).toBeNull();
        expect(await store.get("d/one")).toBeNull();
        expect((await store.list("d/")).keys).toEqual(["d/two"]);
        await store.delete("d/one");
      });
      it("deleting every key under a prefix leaves an empty listing; the prefix can be reused", async () => {
        await store.put("gone/a/b/c", text("x"));
        await store.delete("gone/a/b/c");
        expect((await store.list("gone/")).keys).toEqual([]);
        expect((await store.list("")).keys).toEqual([]);
        await store.put("gone/a/b/d", text("y"));
        expect((await store.list("gone/")).keys).toEqual(["gone/a/b/d"]);
      });
    });

    describe("list", () => {
      it("list of an empty store or unknown prefix -> no keys, not truncated", async () => {
        expect(await store.list("")).toEqual({ keys: [], truncated: false });
        expect(await store.list("repositories/none/")).toEqual({ keys: [], truncated: false });
      });
      it("list(prefix) returns keys starting with the prefix, as strings, not directories", async () => {
        for (const key of ["p/a", "p/b/c", "pq/x", "q/p/a"]) await store.put(key, text(key));
        expect((await store.list("p/")).keys).toEqual(["p/a", "p/b/c"]);
        expect((await store.list("p")).keys).toEqual(["p/a", "p/b/c", "pq/x"]);
        expect((await store.list("p/b")).keys).toEqual(["p/b/c"]);
        expect((await store.list("")).keys).toEqual(["p/a", "p/b/c", "pq/x", "q/p/a"]);
      });
      it("list is in lexical order across '/' boundaries ('-' < '.' < '/' < '0' < 'A' < '_' < 'a')", async () => {
        const keys = ["x/a0", "x/a/z/y", "x/a-c", "x/a/b", "x/a.d", "x/A", "x/_u", "x/b"];
        for (const key of [...keys].reverse()) await store.put(key, text(key));
        expect((await store.list("x/")).keys).toEqual(["x/A", "x/_u", "x/a-c", "x/a.d", "x/a/b", "x/a/z/y", "x/a0", "x/b"]);
      });
      it("list startAfter returns keys strictly after it (startAfter need not exist)", async () => {
        for (const key of ["s/a", "s/b", "s/c/d", "s/e"]) await store.put(key, text(key));
        expect((await store.list("s/", { startAfter: "s/b" })).keys).toEqual(["s/c/d", "s/e"]);
        expect((await store.list("s/", { startAfter: "s/bb" })).keys).toEqual(["s/c/d", "s/e"]);
        expect((await store.list("s/", { startAfter: "s/c" })).keys).toEqual(["s/c/d", "s/e"]);
        expect((await store.list("s/", { startAfter: "s/e" }))).toEqual({ keys: [], truncated: false });
        expect((await store.list("s/", { startAfter: "a" })).keys).toEqual(["s/a", "s/b", "s/c/d", "s/e"]);
      });
      it("list limit: exactly `limit` keys while more follow (truncated), the rest on the last page", async () => {
        const keys = Array.from({ length: 25 }, (_, i) => `l/k${String(i).padStart(2, "0")}`);
        for (const key of keys) await store.put(key, text(key));
        const pages: { keys: string[]; truncated: boolean }[] = [];
        let startAfter: string | undefined;
        for (;;) {
          const page = await store.list("l/", { limit: 7, startAfter });
          pages.push(page);
          if (!page.truncated) break;
          startAfter = page.keys.at(-1);
          if (pages.length > 10) throw new Error("no end");
        }
        expect(pages.map((p) => p.keys.length)).toEqual([7, 7, 7, 4]);
        expect(pages.map((p) => p.truncated)).toEqual([true, true, true, false]);
        expect(pages.flatMap((p) => p.keys)).toEqual(keys);
      });
      it("list limit equal to the number of keys -> all of them, not truncated", async () => {
        for (const key of ["e/1", "e/2", "e/3"]) await store.put(key, text(key));
        expect(await store.list("e/", { limit: 3 })).toEqual({ keys: ["e/1", "e/2", "e/3"], truncated: false });
        expect(await store.list("e/", { limit: 2 })).toEqual({ keys: ["e/1", "e/2"], truncated: true });
      });
      it("list of many keys (1,200) pages through all of them in order", async () => {
        const keys = Array.from({ length: 1200 }, (_, i) => `m/${(i * 7919 % 1200).toString(36).padStart(3, "0")}/link`);
        await Promise.all(keys.map((key) => store.put(key, text("1"))));
        const seen: string[] = [];
        let startAfter: string | undefined;
        for (let guard = 0; guard < 100; guard++) {
          const page = await store.list("m/", { startAfter });
          seen.push(...page.keys);
          if (!page.truncated) break;
          startAfter = page.keys.at(-1);
        }
        expect(seen).toEqual([...keys].sort());
      }, slow);

      describe("at scale: ~2,000 keys across nested directories whose names stress the order", () => {
        // Directory and file names that sort differently as paths than as strings ("a/..." vs
        // "a-b", "a+" as the repository index writes it), at depths 1-3, plus one flat
        // directory of 900 keys (a repository's tags).
        const keys: string[] = [];
        const stems = ["a", "a-b", "a.b", "a0", "ab", "b", "b_c", "B", "z9"];
        for (const stem of stems) {
          for (let j = 0; j < 40; j++) keys.push(`big/${stem}/${j.toString(36)}/x`, `big/${stem}/${j.toString(36)}+`);
          for (let j = 0; j < 20; j++) keys.push(`big/${stem}-${j % 4}/${stem}${j}/leaf`, `big/${stem}+${j}`);
          keys.push(`big/${stem}+`);
        }
        for (let j = 0; j < 900; j++) keys.push(`big/tags/v${(j * 7919 % 900).toString().padStart(3, "0")}`);
        const unique = [...new Set(keys)];
        if (unique.length < 1900) throw new Error(`only ${unique.length} keys`);
        const sorted = [...unique].sort();
        const expected = (prefix: string, startAfter?: string, limit = Infinity) => {
          const all = sorted.filter((key) => key.startsWith(prefix) && (startAfter === undefined || key > startAfter));
          return { keys: all.slice(0, limit), truncated: all.length > limit };
        };
        it("pages of 97 and of 1,000 walk every key once in lexical order; startAfter on missing keys; prefixes that are not whole path components", async () => {
          for (let i = 0; i < unique.length; i += 50) await Promise.all(unique.slice(i, i + 50).map((key) => store.put(key, text("1"))));
          for (const size of [97, 1000]) {
            const seen: string[] = [];
            let startAfter: string | undefined;
            for (let guard = 0; guard < 100; guard++) {
              const page = await store.list("big/", { startAfter, limit: size });
              expect(page).toEqual(expected("big/", startAfter, size));
              seen.push(...page.keys);
              if (!page.truncated) break;
              startAfter = page.keys.at(-1);
            }
            expect(seen).toEqual(sorted);
          }
          // startAfter that is no key: between keys, a directory's own path, inside a missing directory, before and after all.
          const missing = ["big/a", "big/a/", "big/a-", "big/a-b/0", "big/a-b/zz", "big/a/0/w", "big/a+1a", "big/ab/q/r/s", "big/b_", "big/tags/v", "big/tags/v899a", "big/tags/w", "big/", "a", "big/zzz", "c"];
          for (const startAfter of missing) {
            expect(sorted).not.toContain(startAfter);
            expect(await store.list("big/", { startAfter, limit: 25 }), startAfter).toEqual(expected("big/", startAfter, 25));
          }
          // Prefixes that end inside a segment: "big/a" takes "big/a-b/...", "big/a+", "big/ab/...".
          const cases: Array<[string, string | undefined, number | undefined]> = [
            ["big/a", undefined, undefined],
            ["big/a", "big/a-b/zz", 40],
            ["big/a-", undefined, 30],
            ["big/a+", undefined, undefined],
            ["big/tags/v1", undefined, 50],
            ["big/tags/v1", "big/tags/v150", 10],
            ["big/B", undefined, undefined],
            ["bi", "big/z9/", 5],
            ["big/z9/1", undefined, undefined],
            ["big/q", undefined, undefined],
          ];
          for (const [prefix, startAfter, limit] of cases) {
            expect(await store.list(prefix, { startAfter, limit }), `${prefix} after ${startAfter}`).toEqual(expected(prefix, startAfter, limit));
          }
        }, slow * 2);
      });
    });
  });
}
