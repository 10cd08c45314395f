import { join } from "node:path";
import { FileTreeStore, type FileSystem } from "../../src/index.ts";
import { bodyOfBytes } from "../../src/streams.ts";
import { fileRangeStream } from "../shared/file-range-stream.ts";
import { writeStreamInSlabs } from "../shared/slab-writer.ts";

const SMALL_READ = 64 * 1024;

/**
 * The FileTreeStore (src/storage/file-tree.ts) on Deno's file APIs: one file per key under
 * `root`, the same layout as the Node FsStore, so either runtime serves the other's folder.
 */
export class DenoStore extends FileTreeStore {
  constructor(root: string) {
    super(root, denoFileSystem);
  }
}

const denoFileSystem: FileSystem = {
  join,

  async openRead(path, range) {
    // Open first, then stat the open file: a concurrent delete or replace cannot split the two.
    const file = await Deno.open(path, { read: true });
    try {
      const { size } = await file.stat();
      const offset = range?.offset ?? 0;
      const length = range?.length ?? size;
      // A whole small file (a tag, a link, a manifest) is read into memory and handed over
      // as bytes: no stream for the handler to make and drain.
      if (!range && size <= SMALL_READ) {
        const bytes = await readFull(file, new Uint8Array(size));
        file.close();
        return bodyOfBytes(size, bytes);
      }
      if (offset > 0) await file.seek(offset, Deno.SeekMode.Start);
      return { size, body: readSlice(file, length) };
    } catch (error) {
      file.close();
      throw error;
    }
  },

  async writeFile(path, body) {
    using file = await Deno.open(path, { write: true, createNew: true }).catch(async (error) => {
      await body.cancel(error).catch(() => {}); // nobody will read it now
      throw error;
    });
    // In 1 MiB slabs, one filling while the other is written (runtimes/shared/slab-writer.ts).
    // One write at a time, in order: the file's own position is the slab's.
    return await writeStreamInSlabs(body, {
      write: (bytes) => writeAll(file, bytes),
      writeChunks: async (chunks) => {
        for (const chunk of chunks) await writeAll(file, chunk);
      },
    });
  },

  rename: Deno.rename,
  touch: (path) => Deno.utime(path, new Date(), new Date()),
  mkdirp: (path) => Deno.mkdir(path, { recursive: true }),
  remove: (path) => Deno.remove(path),
  removeEmptyDir: (path) => Deno.remove(path), // never recursive: fails unless empty
  readDir: (path) => Array.fromAsync(Deno.readDir(path)),

  async stat(path) {
    const info = await Deno.stat(path);
    return { size: info.size, isFile: info.isFile, mtimeMs: info.mtime?.getTime(), ctimeMs: info.ctime?.getTime(), ino: info.ino ?? undefined };
  },

  isMissing: (error) => error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory,
};

/** `length` bytes from the file's current position as a byte stream that closes it (file-range-stream.ts). */
function readSlice(file: Deno.FsFile, length: number): ReadableStream<Uint8Array> {
  return fileRangeStream(length, async (into) => (await file.read(into)) ?? 0, () => file.close());
}

/** Deno's write may be partial; loop until the whole chunk is on its way to disk. */
async function writeAll(file: Deno.FsFile, chunk: Uint8Array): Promise<void> {
  for (let done = 0; done < chunk.byteLength;) done += await file.write(chunk.subarray(done));
}

/** Fill `buffer` from the file's position; fails if the file ends first (it shrank). */
async function readFull(file: Deno.FsFile, buffer: Uint8Array): Promise<Uint8Array> {
  for (let filled = 0; filled < buffer.byteLength;) {
    const read = await file.read(buffer.subarray(filled));
    if (read === null) throw new Error("file shrank while reading");
    filled += read;
  }
  return buffer;
}
