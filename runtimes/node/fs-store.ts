import { closeSync, fstatSync, openSync, readSync, statSync } from "node:fs";
import { mkdir, readdir, rename, rmdir, unlink, utimes } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { FileSystem } from "../../src/storage/file-system.ts";
import { FileTreeStore } from "../../src/storage/file-tree.ts";
import { bodyOfBytes } from "../../src/streams.ts";
import { fileByteStream } from "./file-stream.ts";
import { writeStreamToFile } from "./file-writer.ts";

const SMALL_READ = 64 * 1024;

/** The FileTreeStore (src/storage/file-tree.ts) on node:fs: one file per key under `root`. */
export class FsStore extends FileTreeStore {
  constructor(root: string) {
    // Absolute, so a later process.chdir cannot move the store.
    super(resolve(root), nodeFileSystem);
  }
}

export const nodeFileSystem: FileSystem = {
  join,

  // Opening, stat-ing and reading small files (tags, links, manifests) is synchronous: from
  // the page cache each call takes microseconds, while a threadpool round trip costs more
  // than the syscall, and a manifest GET made four of them. Big reads stay asynchronous.
  async openRead(path, range) {
    // Open first, then stat the open file: a concurrent delete or replace cannot split the two.
    const fd = openSync(path, "r");
    let streaming = false; // once the stream owns the file, it closes it
    try {
      const { size } = fstatSync(fd);
      const start = range?.offset ?? 0;
      const length = range?.length ?? size - start;
      if (length > SMALL_READ) {
        streaming = true;
        return { size, body: fileByteStream(fd, start, length) };
      }
      // One exact-size read, handed over as bytes: no stream for a tag or a manifest.
      const buffer = new Uint8Array(length);
      const bytesRead = readSync(fd, buffer, 0, length, start);
      return bodyOfBytes(size, buffer.subarray(0, bytesRead));
    } finally {
      if (!streaming) closeSync(fd);
    }
  },

  // Two reused 1 MiB slabs per big write (file-writer.ts): bounded memory, 1 MiB writes.
  writeFile: writeStreamToFile,

  rename,
  touch: (path) => utimes(path, new Date(), new Date()),
  mkdirp: async (path) => void (await mkdir(path, { recursive: true })),
  remove: unlink,
  removeEmptyDir: rmdir,

  async readDir(path) {
    const entries = await readdir(path, { withFileTypes: true });
    return entries.map((entry) => ({ name: entry.name, isFile: entry.isFile(), isDirectory: entry.isDirectory() }));
  },

  async stat(path) {
    const info = statSync(path); // synchronous, as in openRead
    return { size: info.size, isFile: info.isFile(), mtimeMs: info.mtimeMs, ctimeMs: info.ctimeMs, ino: info.ino };
  },

  isMissing: (error) => {
    const code = (error as NodeJS.ErrnoException | null)?.code;
    return code === "ENOENT" || code === "ENOTDIR";
  },
};
