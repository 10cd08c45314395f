/** The head of an HTTP/1.1 response, as bulk-get.ts reads it off the socket. */
import type { Framing } from "./bulk-get.ts";

export interface Head {
  status: number;
  headers: Headers;
}

/** A head bigger than this is refused (node:http's default limit is 16 KiB). */
const MAX_HEAD_BYTES = 64 * 1024;

/**
 * Parse a response head at the start of `bytes`: the head, how many bytes it took and how
 * its body is framed (none for HEAD, 1xx, 204 and 304), "incomplete" while the blank line
 * has not arrived, or an Error for something that is not HTTP/1.x.
 */
export function parseHead(bytes: Uint8Array, method: string): { head: Head; consumed: number; framing: Framing | null } | "incomplete" | Error {
  const end = indexOfBlankLine(bytes);
  if (end < 0) return bytes.byteLength > MAX_HEAD_BYTES ? new Error("upstream sent a response head over 64 KiB") : "incomplete";
  const [statusLine, ...fields] = new TextDecoder("latin1").decode(bytes.subarray(0, end)).split("\r\n");
  const status = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(statusLine!);
  if (!status) return new Error("upstream sent something that is not an HTTP/1.1 response");
  const headers = new Headers();
  for (const field of fields) {
    const colon = field.indexOf(":");
    if (colon <= 0) return new Error("upstream sent a malformed header line");
    try {
      headers.append(field.slice(0, colon).trim(), field.slice(colon + 1).trim());
    } catch {
      return new Error("upstream sent a malformed header line");
    }
  }
  const code = Number(status[1]);
  const head = { status: code, headers };
  const consumed = end + 4;
  if (method === "HEAD" || code < 200 || code === 204 || code === 304) return { head, consumed, framing: null };
  if (/\bchunked\b/i.test(headers.get("transfer-encoding") ?? "")) return { head, consumed, framing: "chunked" };
  const length = headers.get("content-length");
  if (length === null) return { head, consumed, framing: "close" };
  if (!/^\d+$/.test(length)) return new Error("upstream sent an invalid Content-Length");
  return { head, consumed, framing: { length: Number(length) } };
}

function indexOfBlankLine(bytes: Uint8Array): number {
  for (let i = bytes.indexOf(13); i >= 0 && i + 3 < bytes.byteLength; i = bytes.indexOf(13, i + 1)) {
    if (bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) return i;
  }
  return -1;
}
