import { createWriteStream } from "node:fs";
import { mkdir, open, readdir, rename, rmdir, stat, unlink } from "node:fs/promises";
import { join, resolve } from "node:path";
import { FileTreeStore, type FileSystem } from "../../src/index.ts";
import { streamOf } from "../../src/streams.ts";
import { fileByteStream } from "./file-stream.ts";
import { writeWebStream } from "./web-streams.ts";

const IO_BUFFER = 1024 * 1024;
const SMALL_READ = 64 * 1024;

/** The FileTreeStore (src/storage/file-tree.ts) on node:fs: one file per key under `root`. */
export class FsStore extends FileTreeStore {
  constructor(root: string) {
    // Absolute, so a later process.chdir cannot move the store.
    super(resolve(root), nodeFileSystem);
  }
}

const nodeFileSystem: FileSystem = {
  join,

  async openRead(path, range) {
    // Open first, then stat the open file: a concurrent delete or replace cannot split the two.
    const file = await open(path, "r");
    const { size } = await file.stat().catch(async (error: unknown) => {
      await file.close();
      throw error;
    });
    const start = range?.offset ?? 0;
    const length = range?.length ?? size - start;
    // Links, tags and manifests: one exact-size read. A read stream would allocate its full
    // 1 MiB buffer for each, and that garbage was most of a manifest GET's cost.
    if (length <= SMALL_READ) {
      try {
        const { buffer, bytesRead } = await file.read(new Uint8Array(length), 0, length, start);
        return { size, body: streamOf(buffer.subarray(0, bytesRead)) };
      } finally {
        await file.close();
      }
    }
    return { size, body: fileByteStream(file, start, length) };
  },

  async writeFile(path, body) {
    // A 1 MiB high-water mark: chunks (64 KiB from a request) queue up while a write is in
    // flight and go out together in one writev, instead of one write call each.
    const output = createWriteStream(path, { highWaterMark: IO_BUFFER });
    await writeWebStream(body, output);
    return output.bytesWritten;
  },

  rename,
  mkdirp: async (path) => void (await mkdir(path, { recursive: true })),
  remove: unlink,
  removeEmptyDir: rmdir,

  async readDir(path) {
    const entries = await readdir(path, { withFileTypes: true });
    return entries.map((entry) => ({ name: entry.name, isFile: entry.isFile(), isDirectory: entry.isDirectory() }));
  },

  async stat(path) {
    const info = await stat(path);
    return { size: info.size, isFile: info.isFile(), mtimeMs: info.mtimeMs };
  },

  isMissing: (error) => {
    const code = (error as NodeJS.ErrnoException | null)?.code;
    return code === "ENOENT" || code === "ENOTDIR";
  },
};
