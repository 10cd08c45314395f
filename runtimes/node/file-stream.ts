import { close, read } from "node:fs";
import { promisify } from "node:util";
import { fileRangeStream } from "../shared/file-range-stream.ts";

const readAt = promisify(read);
const closeFd = promisify(close);

/** Bytes [start, start + length) of the open file `fd` as a Web byte stream that closes it (file-range-stream.ts). */
export function fileByteStream(fd: number, start: number, length: number): ReadableStream<Uint8Array> {
  return fileRangeStream(length, async (into, offset) => (await readAt(fd, into, 0, into.byteLength, start + offset)).bytesRead, () => closeFd(fd));
}
