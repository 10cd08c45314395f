import { randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, open, readdir, rename, rm, rmdir, stat } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import { pipeline } from "node:stream/promises";
import { readableToWeb, writeWebStream } from "./web-streams.ts";
import { NotFoundError, type BlobStore, type ByteRange, type ListOptions, type ListResult, type ObjectBody, type ObjectInfo, type PutOptions } from "../../src/index.ts";

// Keys come from src/paths.ts; this is the last line of defence before the filesystem:
// segments start with a letter, digit or "_", so "." and ".." can never appear.
const KEY = /^[A-Za-z0-9_][A-Za-z0-9._:+=-]*(?:\/[A-Za-z0-9_][A-Za-z0-9._:+=-]*)*$/;
const TEMP_DIR = ".tmp"; // cannot collide with a key: keys never start with "."
const STALE_TEMP_MS = 60 * 60 * 1000;
const WRITE_BUFFER = 1024 * 1024;

/**
 * A BlobStore on the local filesystem: one file per key under `root`. Every write goes
 * to a temp file in `root/.tmp` and is renamed into place, so readers and crashes never
 * see a partial object, and concurrent writers of the same key simply replace each other.
 */
export class FsStore implements BlobStore {
  readonly root: string;

  constructor(root: string) {
    // Absolute, so pruning can tell which directories are inside the root.
    this.root = resolve(root);
  }

  private path(key: string): string {
    if (!KEY.test(key)) throw new Error(`invalid storage key: ${JSON.stringify(key)}`);
    return join(this.root, ...key.split("/"));
  }

  async head(key: string): Promise<ObjectInfo | null> {
    const info = await stat(this.path(key)).catch(ifMissing(null));
    return info?.isFile() ? { size: info.size } : null;
  }

  async get(key: string, range?: ByteRange): Promise<ObjectBody | null> {
    // Open first, then stat the open file: a concurrent delete or replace cannot split the two.
    const file = await open(this.path(key), "r").catch(ifMissing(null));
    if (!file) return null;
    const { size } = await file.stat();
    if (range && range.length === 0) {
      await file.close();
      return { size, body: new ReadableStream({ start: (c) => c.close() }) };
    }
    const stream = file.createReadStream({
      start: range?.offset ?? 0,
      end: range ? range.offset + range.length - 1 : undefined,
      highWaterMark: WRITE_BUFFER,
    });
    return { size, body: readableToWeb(stream) };
  }

  async put(key: string, body: ReadableStream<Uint8Array> | Uint8Array, _options?: PutOptions): Promise<number> {
    const dest = this.path(key);
    const temp = await this.tempFile();
    const output = createWriteStream(temp, { highWaterMark: WRITE_BUFFER });
    try {
      const source = body instanceof Uint8Array ? streamOf(body) : body;
      await writeWebStream(source, output);
      await this.publish(temp, dest);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    return output.bytesWritten;
  }

  async concat(sources: string[], dest: string): Promise<void> {
    const target = this.path(dest);
    if (sources.length === 1) {
      return this.publish(this.path(sources[0]!), target).catch(notFoundAs(sources[0]!));
    }
    const temp = await this.tempFile();
    try {
      const output = createWriteStream(temp, { highWaterMark: WRITE_BUFFER });
      const files = sources.map((key) => ({ key, path: this.path(key) }));
      await pipeline(async function* () {
        for (const { key, path } of files) {
          const file = await open(path, "r").catch(notFoundAs(key));
          yield* file.createReadStream({ highWaterMark: WRITE_BUFFER });
        }
      }, output);
      await this.publish(temp, target);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    const path = this.path(key);
    await rm(path, { force: true });
    await this.pruneEmptyParents(path);
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    // Walk only the deepest directory the prefix names, then filter by the rest of it.
    const base = prefix.includes("/") ? prefix.slice(0, prefix.lastIndexOf("/")) : "";
    if (base !== "" && !KEY.test(base)) return { keys: [], truncated: false };
    const keys: string[] = [];
    await this.walk(base === "" ? this.root : join(this.root, ...base.split("/")), keys);
    const limit = options.limit ?? Infinity;
    const matching = keys
      .filter((key) => key.startsWith(prefix) && (options.startAfter === undefined || key > options.startAfter))
      .sort();
    return { keys: matching.slice(0, limit), truncated: matching.length > limit };
  }

  /** Remove temp files left behind by a crash (old enough that no live write owns them). */
  async removeStaleTempFiles(): Promise<void> {
    const dir = join(this.root, TEMP_DIR);
    for (const name of await readdir(dir).catch(ifMissing([] as string[]))) {
      const info = await stat(join(dir, name)).catch(ifMissing(null));
      if (info && Date.now() - info.mtimeMs > STALE_TEMP_MS) await rm(join(dir, name), { force: true });
    }
  }

  private async walk(dir: string, into: string[]): Promise<void> {
    const entries = await readdir(dir, { withFileTypes: true }).catch(ifMissing([]));
    for (const entry of entries) {
      if (entry.name === TEMP_DIR && dir === this.root) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await this.walk(path, into);
      else if (entry.isFile()) into.push(relative(this.root, path).split(sep).join("/"));
    }
  }

  private async tempFile(): Promise<string> {
    const dir = join(this.root, TEMP_DIR);
    await mkdir(dir, { recursive: true });
    return join(dir, randomUUID());
  }

  /** Rename into place, making parent directories; retried once if a delete pruned them meanwhile. */
  private async publish(from: string, to: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      await mkdir(dirname(to), { recursive: true });
      try {
        return await rename(from, to);
      } catch (error) {
        if (attempt >= 2 || (error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      }
    }
  }

  /** Keep the tree tidy: remove directories a delete left empty, up to the root. */
  private async pruneEmptyParents(path: string): Promise<void> {
    for (let dir = dirname(path); dir.startsWith(this.root + sep); dir = dirname(dir)) {
      try {
        await rmdir(dir);
      } catch {
        return; // not empty (or already gone): stop
      }
    }
  }
}

/** Rethrow ENOENT as the interface's typed NotFoundError for `key`. */
const notFoundAs =
  (key: string) =>
  (error: NodeJS.ErrnoException): never => {
    throw error.code === "ENOENT" ? new NotFoundError(key) : error;
  };

const ifMissing =
  <T>(fallback: T) =>
  (error: NodeJS.ErrnoException): T => {
    if (error.code === "ENOENT" || error.code === "ENOTDIR") return fallback;
    throw error;
  };

const streamOf = (bytes: Uint8Array) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
