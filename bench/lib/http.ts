// A minimal HTTP/1.1 client on node:http with keep-alive agents: streams request bodies
// from Blob chunks (honouring backpressure) and either buffers, discards or verifies
// response bodies. No per-byte work beyond an optional memcmp.
import http from "node:http";
import { once } from "node:events";
import type { Blob } from "./data.ts";

export const agent = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 256 });

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer; // only when consume === "buffer"
  received: number;
  verified: boolean; // false if consume is a blob and a byte differed
}

export interface RequestOptions {
  method: string;
  headers?: Record<string, string>;
  /** Buffer bodies are sent with Content-Length; a Blob is streamed (chunked unless length is set). */
  body?: Buffer | { blob: Blob; start?: number; end?: number; contentLength?: boolean };
  /** "buffer" (default) keeps the body; "discard" only counts; a Blob + offset verifies the bytes. */
  consume?: "buffer" | "discard" | { blob: Blob; offset: number };
}

export class HttpError extends Error {}

export async function request(url: string, opts: RequestOptions): Promise<Reply> {
  const headers: Record<string, string> = { ...opts.headers };
  const body = opts.body;
  if (Buffer.isBuffer(body)) headers["content-length"] = String(body.length);
  else if (body && body.contentLength !== false) {
    headers["content-length"] = String((body.end ?? body.blob.size) - (body.start ?? 0));
  } else if (!body && opts.method !== "GET" && opts.method !== "HEAD") headers["content-length"] = "0";
  const req = http.request(url, { method: opts.method, headers, agent });
  const replied = new Promise<http.IncomingMessage>((resolve, reject) => {
    req.once("response", resolve);
    req.once("error", reject);
  });
  replied.catch(() => {}); // observed below; avoid an unhandled rejection while sending
  try {
    if (Buffer.isBuffer(body)) req.end(body);
    else if (body) await sendChunks(req, body.blob.chunks(body.start, body.end));
    else req.end();
  } catch (err) {
    // The server may answer (e.g. 4xx) and close before the body is sent: prefer its reply.
    const res = await Promise.race([replied, new Promise<null>((r) => setTimeout(() => r(null), 200))]).catch(() => null);
    if (!res) throw err;
  }
  const res = await replied;
  return readReply(res, opts.consume ?? "buffer");
}

async function sendChunks(req: http.ClientRequest, chunks: Iterable<Buffer>): Promise<void> {
  for (const chunk of chunks) {
    if (!req.write(chunk)) await once(req, "drain");
  }
  await new Promise<void>((resolve) => req.end(resolve));
}

function readReply(res: http.IncomingMessage, consume: NonNullable<RequestOptions["consume"]>): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let received = 0;
    let verified = true;
    res.on("data", (chunk: Buffer) => {
      if (consume === "buffer") parts.push(chunk);
      else if (consume !== "discard" && verified) verified = consume.blob.matches(consume.offset + received, chunk);
      received += chunk.length;
    });
    res.once("error", reject);
    res.once("aborted", () => reject(new HttpError("response aborted")));
    res.once("end", () => {
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts), received, verified });
    });
  });
}

/** Throws an HttpError unless the status is the expected one. */
export function expectStatus(reply: Reply, expected: number, what: string): Reply {
  if (reply.status !== expected) {
    const text = reply.body.subarray(0, 300).toString("utf8").replace(/\s+/g, " ");
    throw new HttpError(`${what}: expected ${expected}, got ${reply.status} ${text}`);
  }
  return reply;
}

/** Resolves a Location header against the server's base URL. */
export function resolveLocation(base: string, reply: Reply, what: string): string {
  const loc = reply.headers.location;
  if (!loc) throw new HttpError(`${what}: no Location header`);
  return new URL(loc, base).toString();
}

export function withQuery(url: string, key: string, value: string): string {
  const u = new URL(url);
  u.searchParams.set(key, value);
  return u.toString();
}
