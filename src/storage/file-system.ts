import type { ByteRange, ObjectBody } from "./blob-store.ts";

/**
 * The few file operations a FileTreeStore needs, supplied by each runtime (node:fs, Deno).
 * Methods report a missing path by rejecting with the runtime's own error; `isMissing`
 * tells those apart, so an implementation only translates calls and never maps errors.
 */
export interface FileSystem {
  /** `parts` joined with the platform's separator (no resolving, no validation). */
  join(...parts: string[]): string;

  /**
   * Open the file at `path` and stream it (or `range` of it; the range is within the file
   * and may be empty). `size` is the whole file's, taken from the open file, so a
   * concurrent replace or delete cannot make size and bytes disagree.
   */
  openRead(path: string, range?: ByteRange): Promise<ObjectBody>;

  /**
   * Create the file `path` (a fresh temp name), write `body` into it and close it; resolves
   * with the bytes written. If `body` or a write fails, rejects only once the file is
   * closed (the caller then removes it).
   */
  writeFile(path: string, body: ReadableStream<Uint8Array>): Promise<number>;

  /** Move the file `from` to `to`, atomically replacing any file at `to`. */
  rename(from: string, to: string): Promise<void>;

  /** Make the directory `path` and any missing parents; existing ones are fine. */
  mkdirp(path: string): Promise<void>;

  /** Set the file's modification time to now (a rename keeps the old one). */
  touch(path: string): Promise<void>;

  /** Remove the file `path`. */
  remove(path: string): Promise<void>;

  /** Remove the directory `path` only if it is empty; rejects if it is not (or is missing). */
  removeEmptyDir(path: string): Promise<void>;

  /** The entries of the directory `path`, in any order. */
  readDir(path: string): Promise<FileEntry[]>;

  /** Facts about `path`, following symlinks. */
  stat(path: string): Promise<FileStat>;

  /** True when `error` (from any method above) means `path`, or a directory in it, does not exist. */
  isMissing(error: unknown): boolean;
}

export interface FileEntry {
  name: string;
  isFile: boolean;
  isDirectory: boolean;
}

export interface FileStat {
  size: number;
  isFile: boolean;
  /** Last modification, ms since the epoch; undefined where the platform cannot tell. */
  mtimeMs?: number;
  /** Last change of the file or its metadata (a rename into place too), ms since the epoch; set by the kernel only. */
  ctimeMs?: number;
  /** The file's inode number: a file renamed over another has a new one. */
  ino?: number;
}
