/**
 * FileTreeStore's cache of small whole files (tags and links, a digest each), checked
 * against the file on every read. A hit costs one `stat` instead of an open, a stat, a read
 * and a close (a miss costs the `stat` on top): on Node a manifest GET by tag served ~10-20%
 * more requests a second with it (README, Performance).
 *
 * A cached file is served only while its stat is what it was: the same inode, size, mtime
 * and ctime. Berth replaces a file by renaming a new one over it (a new inode, a new ctime),
 * and any other write moves the ctime, so another process on the same folder (`--workers`,
 * Node beside Deno) is seen at its next read. A file is cached only if it had been still
 * for STILL_MS when it was read, the rule of the listing cache (src/storage/sorted-dirs.ts):
 * a change within the clock tick of the read could keep every stat field, even the inode
 * number when a freed one is reused, but a change after the read lands in a later tick than
 * the cached ctime. A miss costs a read, never a wrong answer.
 */
import { BoundedCache } from "../bounded-cache.ts";
import { bodyOfBytes } from "../streams.ts";
import type { ObjectBody } from "./blob-store.ts";
import type { FileStat, FileSystem } from "./file-system.ts";

const STILL_MS = 2_000;
/** Files up to this size are kept: tags and links are ~71 bytes (small upload states, keys and manifests fit too). */
const MAX_FILE_BYTES = 4 * 1024;
/** The bound over all kept files (path, bytes and bookkeeping): thousands of tags. */
export const SMALL_FILE_CACHE_BYTES = 1024 * 1024;

/** A kept file: its bytes and the stat they were read under. */
interface Kept {
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  bytes: Uint8Array;
}

/** A stat that can tell one version of a file from another: where the platform gives all four fields. */
type Versioned = FileStat & { ino: number; mtimeMs: number; ctimeMs: number };
const versioned = (stat: FileStat): stat is Versioned => stat.isFile && stat.ino !== undefined && stat.mtimeMs !== undefined && stat.ctimeMs !== undefined;
const sameVersion = (kept: Kept, stat: Versioned) =>
  kept.ino === stat.ino && kept.size === stat.size && kept.mtimeMs === stat.mtimeMs && kept.ctimeMs === stat.ctimeMs;

export class SmallFileCache {
  private readonly kept = new BoundedCache<Kept>(SMALL_FILE_CACHE_BYTES, (path, kept) => 128 + 2 * path.length + kept.bytes.byteLength);

  constructor(
    private readonly fs: FileSystem,
    private readonly stillMs = STILL_MS,
  ) {}

  /** The whole file at `path`, as `fs.openRead(path)` gives it; rejects as it would (a missing file included). */
  async read(path: string): Promise<ObjectBody> {
    const before = Date.now();
    const stat = await this.fs.stat(path);
    if (stat.size > MAX_FILE_BYTES || !versioned(stat)) return this.fs.openRead(path);
    const hit = this.kept.get(path);
    if (hit && sameVersion(hit, stat)) return bodyOfBytes(hit.bytes.byteLength, hit.bytes);
    const object = await this.fs.openRead(path);
    // The stat and the read are two calls: the bytes are kept under the stat's version only
    // if they are as long. If the file was replaced in between, that version is gone and is
    // not seen again, so the entry is simply never hit.
    const still = before - Math.max(stat.mtimeMs, stat.ctimeMs) > this.stillMs;
    if (still && object.bytes && object.size === stat.size) {
      const { ino, size, mtimeMs, ctimeMs } = stat;
      this.kept.set(path, { ino, size, mtimeMs, ctimeMs, bytes: object.bytes });
    } else {
      this.kept.delete(path);
    }
    return object;
  }
}
