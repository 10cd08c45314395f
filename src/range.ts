import { RegistryError } from "./errors.ts";
import type { ByteRange } from "./storage/blob-store.ts";

/**
 * Parse a single `Range: bytes=a-b | a- | -n` header against an object of `size` bytes.
 * Returns null to serve the whole object (no header, or one we do not understand, which
 * RFC 9110 lets a server ignore); throws 416 when the range cannot be satisfied.
 */
export function parseRange(header: string | null, size: number): ByteRange | null {
  const match = header?.trim().match(/^bytes=(\d*)-(\d*)$/);
  if (!match || (match[1] === "" && match[2] === "")) return null;
  const [, first, last] = match as unknown as [string, string, string];
  let start: number;
  let end: number;
  if (first === "") {
    start = Math.max(0, size - Number(last)); // suffix: the last n bytes
    end = size - 1;
    if (Number(last) === 0) throw unsatisfiable(size);
  } else {
    start = Number(first);
    end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
    if (last !== "" && Number(last) < start) return null; // invalid syntax: ignore
  }
  if (start >= size) throw unsatisfiable(size);
  return { offset: start, length: end - start + 1 };
}

const unsatisfiable = (size: number) =>
  new RegistryError("RANGE_INVALID", { size }, { headers: { "Content-Range": `bytes */${size}` } });
