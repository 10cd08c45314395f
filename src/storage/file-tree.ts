import { concatStreams, streamOf } from "../streams.ts";
import type { FileSystem } from "./file-system.ts";
import { SmallFileCache } from "./small-files.ts";
import { SortedDirectories } from "./sorted-dirs.ts";
import { NotFoundError, type BlobStore, type ByteRange, type ListOptions, type ListResult, type ObjectBody, type ObjectStat, type PutOptions } from "./blob-store.ts";

// Keys come from src/paths.ts; this is the last line of defence before the filesystem:
// segments start with a letter, digit or "_", so "." and ".." can never appear.
const KEY = /^[A-Za-z0-9_][A-Za-z0-9._:+=-]*(?:\/[A-Za-z0-9_][A-Za-z0-9._:+=-]*)*$/;
const TEMP_DIR = ".tmp"; // cannot collide with a key: keys never start with "."
const STALE_TEMP_MS = 60 * 60 * 1000;
// Each lost attempt needs a concurrent delete to empty and prune that very directory inside
// a window of two syscalls; 50 in a row does not happen outside a deliberate hammering test.
const PUBLISH_ATTEMPTS = 50;

/**
 * A BlobStore on a filesystem: one file per key under `root`, the same layout on every
 * runtime, so Node and Deno can serve each other's folder. Every write goes to a temp file
 * in `root/.tmp` and is renamed into place, so readers and crashes never see a partial
 * object, and concurrent writers of the same key simply replace each other.
 */
export class FileTreeStore implements BlobStore {
  readonly driver: string = "filesystem";
  /** Directory entries in key order, for listings (src/storage/sorted-dirs.ts). */
  private readonly dirs: SortedDirectories;
  /** Tags and links, checked against the file on every read (src/storage/small-files.ts). */
  private readonly smallFiles: SmallFileCache;

  constructor(
    readonly root: string,
    private readonly fs: FileSystem,
  ) {
    this.dirs = new SortedDirectories(fs, root, [TEMP_DIR]);
    this.smallFiles = new SmallFileCache(fs);
  }

  async head(key: string): Promise<ObjectStat | null> {
    const info = await this.fs.stat(this.path(key)).catch(this.ifMissing(null));
    // No mtime (rare platforms): "now", so garbage collection never takes it for old.
    return info?.isFile ? { size: info.size, modifiedMs: info.mtimeMs ?? Date.now() } : null;
  }

  async get(key: string, range?: ByteRange): Promise<ObjectBody | null> {
    const path = this.path(key);
    return (range ? this.fs.openRead(path, range) : this.smallFiles.read(path)).catch(this.ifMissing(null));
  }

  async put(key: string, body: ReadableStream<Uint8Array> | Uint8Array, _options?: PutOptions): Promise<number> {
    this.path(key); // an invalid key fails before anything is written
    return this.writeThenPublish(body instanceof Uint8Array ? streamOf(body) : body, key);
  }

  async concat(sources: string[], dest: string): Promise<void> {
    this.path(dest); // validate before any file is touched
    const paths = sources.map((key) => this.path(key));
    if (sources.length === 1) {
      // A rename keeps the part's mtime, which may be hours old: the blob is written now.
      await this.fs.touch(paths[0]!).catch((error) => {
        if (this.fs.isMissing(error)) throw new NotFoundError(sources[0]!);
        throw error;
      });
      return this.publish(paths[0]!, dest, sources[0]);
    }
    await this.writeThenPublish(this.readInTurn(sources, paths), dest);
  }

  async delete(key: string): Promise<void> {
    await this.fs.remove(this.path(key)).catch(this.ifMissing(undefined));
    // Keep the tree tidy: remove the directories this left empty, deepest first, up to the root.
    const segments = key.split("/");
    for (let depth = segments.length - 1; depth > 0; depth--) {
      const emptied = await this.fs.removeEmptyDir(this.fs.join(this.root, ...segments.slice(0, depth))).then(() => true, () => false);
      if (!emptied) return; // not empty (or already gone): stop
    }
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    // Walk the deepest directory the prefix names, in key order, skipping whole subtrees that
    // end before startAfter and stopping one key past the page: a page costs a page.
    const cut = prefix.lastIndexOf("/");
    const base = cut < 0 ? [] : prefix.slice(0, cut).split("/");
    if (base.length > 0 && !KEY.test(base.join("/"))) return { keys: [], truncated: false };
    const limit = options.limit ?? Infinity;
    const keys: string[] = [];
    const startAfter = options.startAfter !== undefined && options.startAfter >= prefix ? options.startAfter : undefined;
    if (startAfter !== undefined && !startAfter.startsWith(prefix)) return { keys: [], truncated: false }; // past every key of the prefix
    await this.dirs.collectKeys(base, prefix.slice(cut + 1), startAfter, keys, limit + 1);
    return { keys: keys.slice(0, limit), truncated: keys.length > limit };
  }

  /**
   * Check at startup that a push can work here: make `root/.tmp`, write a file, rename it,
   * remove it. Throws naming the root and the step that failed. A real write, not a look at
   * permission bits, so it also tells the truth when running as root or on a read-only mount.
   */
  async probe(): Promise<void> {
    const tempDir = this.fs.join(this.root, TEMP_DIR);
    const written = this.fs.join(tempDir, `probe-${crypto.randomUUID()}`);
    const renamed = `${written}-renamed`;
    let step = `create the folder ${tempDir}`;
    try {
      await this.fs.mkdirp(tempDir);
      step = `write a file in ${tempDir}`;
      await this.fs.writeFile(written, streamOf(new Uint8Array([0x62])));
      step = `rename a file in ${tempDir}`;
      await this.fs.rename(written, renamed);
      step = `remove a file in ${tempDir}`;
      await this.fs.remove(renamed);
    } catch (error) {
      for (const path of [written, renamed]) await this.fs.remove(path).catch(() => {});
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`storage root ${this.root} is not usable: cannot ${step}: ${reason}`, { cause: error });
    }
  }

  /** Remove temp files left behind by a crash (old enough that no live write owns them). */
  async removeStaleTempFiles(): Promise<void> {
    const dir = this.fs.join(this.root, TEMP_DIR);
    for (const { name } of await this.fs.readDir(dir).catch(this.ifMissing([]))) {
      const info = await this.fs.stat(this.fs.join(dir, name)).catch(this.ifMissing(null));
      if (info?.mtimeMs !== undefined && Date.now() - info.mtimeMs > STALE_TEMP_MS) {
        await this.fs.remove(this.fs.join(dir, name)).catch(this.ifMissing(undefined));
      }
    }
  }

  private path(key: string): string {
    if (!KEY.test(key)) throw new Error(`invalid storage key: ${JSON.stringify(key)}`);
    return this.fs.join(this.root, ...key.split("/"));
  }

  /** Write `body` to a temp file, then publish it as the key `dest`; the temp file never outlives a failure. */
  private async writeThenPublish(body: ReadableStream<Uint8Array>, dest: string): Promise<number> {
    const tempDir = this.fs.join(this.root, TEMP_DIR);
    await this.fs.mkdirp(tempDir);
    const temp = this.fs.join(tempDir, crypto.randomUUID());
    try {
      const written = await this.fs.writeFile(temp, body);
      await this.publish(temp, dest);
      return written;
    } catch (error) {
      await this.fs.remove(temp).catch(() => {}); // may never have been created
      throw error;
    }
  }

  /**
   * Rename the file `from` into place as the key `dest`, making parent directories. A delete
   * elsewhere in the tree prunes directories it leaves empty, so a parent may vanish between
   * our mkdir and our rename (or during the mkdir itself): that is retried, with a growing
   * pause, until the rename lands. A missing `from` that is a caller's key (`sourceKey`) is
   * that caller's NotFoundError.
   */
  private async publish(from: string, dest: string, sourceKey?: string): Promise<void> {
    const to = this.path(dest);
    const parent = this.fs.join(this.root, ...dest.split("/").slice(0, -1));
    for (let attempt = 1; ; attempt++) {
      try {
        await this.fs.mkdirp(parent);
        return await this.fs.rename(from, to);
      } catch (error) {
        if (!this.fs.isMissing(error)) throw error;
        const sourceGone = !(await this.fs.stat(from).catch(this.ifMissing(null)));
        if (sourceGone && sourceKey !== undefined) throw new NotFoundError(sourceKey);
        if (sourceGone || attempt >= PUBLISH_ATTEMPTS) throw error;
        if (attempt > 2) await new Promise((resolve) => setTimeout(resolve, Math.random() * attempt)); // step out of a pruning burst
      }
    }
  }

  /** The files at `paths` as one stream, each opened only when the one before it ends. */
  private readInTurn(keys: string[], paths: string[]): ReadableStream<Uint8Array> {
    return concatStreams(
      paths.map((path, i) => async () => {
        const file = await this.fs.openRead(path).catch(this.ifMissing(null));
        if (!file) throw new NotFoundError(keys[i]!);
        return file.body;
      }),
    );
  }

  /** A catch handler: `fallback` when the error says the path is missing, rethrow otherwise. */
  private ifMissing<T>(fallback: T): (error: unknown) => T {
    return (error) => {
      if (this.fs.isMissing(error)) return fallback;
      throw error;
    };
  }
}
