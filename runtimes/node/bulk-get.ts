/**
 * One HTTP/1.1 GET or HEAD on its own connection, for big bodies (blobs from an upstream).
 * node:http reads 64 KiB per socket read into a fresh buffer and pushes each through its
 * parser and stream machinery: reading a blob from distribution on loopback cost ~2.5 CPU-s
 * per GiB that way, against ~0.35 for reads of up to 1 MiB straight into memory the body
 * chunks are views of (net/tls `onread`). Here the socket reads into 1 MiB slabs: each read
 * lands after the previous one, and what arrived is handed on as views of the slab (no copy),
 * gathered until the slab is full or Node has delivered what the socket had (a setImmediate
 * after the reads of one poll), so a slow upstream's bytes are not held back. A chunk is never
 * written again once handed on: reads only go to the part of a slab past every chunk.
 * `Connection: close`, one connection per blob, as docker pulls layers.
 */
import { connect as connectTcp, type Socket } from "node:net";
import { connect as connectTls } from "node:tls";
import { parseHead, type Head } from "./http1-head.ts";

const SLAB_BYTES = 1024 * 1024;
/** A read into less room than this starts a new slab instead (no trickle of tiny reads). */
const MIN_READ_ROOM = 64 * 1024;

export interface BulkRequest {
  method: "GET" | "HEAD";
  url: URL;
  headers: Record<string, string>;
  signal?: AbortSignal;
}

/** The response head, and the body as a Web stream (null for HEAD, 204, 304). */
export function bulkGet(request: BulkRequest): Promise<{ head: Head; body: ReadableStream<Uint8Array> | null }> {
  const { url, method, signal } = request;
  return new Promise((resolve, reject) => {
    let slab = newSlab(SLAB_BYTES);
    let filled = 0; // bytes of the slab read so far
    let handed = 0; // bytes of the slab already handed on (or consumed as the head)
    let head: Head | undefined;
    let body: BodyReader | undefined;
    let failed = false;

    const nextRoom = () => {
      if (slab.byteLength - filled < MIN_READ_ROOM) {
        const carried = slab.subarray(handed, filled); // a head not yet complete moves along
        slab = newSlab(Math.max(SLAB_BYTES, carried.byteLength * 2));
        slab.set(carried);
        filled = carried.byteLength;
        handed = 0;
      }
      return slab.subarray(filled);
    };
    const fail = (error: Error) => {
      if (failed) return;
      failed = true;
      socket.destroy();
      if (body) body.fail(error);
      else reject(error);
    };
    const onRead = (n: number): boolean => {
      filled += n;
      while (!head) {
        const parsed = parseHead(slab.subarray(handed, filled), method);
        if (parsed === "incomplete") return true;
        if (parsed instanceof Error) return fail(parsed), false;
        handed += parsed.consumed;
        if (parsed.head.status < 200) continue; // 100 Continue and the like: the real head follows
        head = parsed.head;
        if (!parsed.framing) {
          resolve({ head, body: null });
          socket.destroy();
          return false;
        }
        body = new BodyReader(parsed.framing, socket, (error) => fail(error));
        resolve({ head, body: body.stream });
      }
      const fresh = slab.subarray(handed, filled);
      handed = filled;
      return body!.take(fresh);
    };

    const options = {
      host: url.hostname.replace(/^\[|\]$/g, ""),
      port: Number(url.port || (url.protocol === "https:" ? 443 : 80)),
      onread: { buffer: () => nextRoom(), callback: onRead },
    };
    const socket: Socket = url.protocol === "https:"
      ? connectTls({ ...options, servername: /^[\d.]+$|:/.test(options.host) ? undefined : options.host, ALPNProtocols: ["http/1.1"] })
      : connectTcp(options);
    socket.setNoDelay(true);
    const lines = [`${method} ${url.pathname}${url.search} HTTP/1.1`, `Host: ${url.host}`, "Connection: close"];
    for (const [name, value] of Object.entries(request.headers)) {
      if (!/^(host|connection|content-length|transfer-encoding)$/i.test(name)) lines.push(`${name}: ${value}`);
    }
    socket.write(`${lines.join("\r\n")}\r\n\r\n`);
    socket.once("error", (error) => fail(error));
    socket.once("end", () => (body ? body.end() : fail(new Error("upstream closed the connection before a response"))));
    // "end" needs a flowing socket; "close" comes in any case: a clean close ends a body that runs until it.
    socket.once("close", (hadError) => (body && !hadError ? body.end() : fail(new Error("upstream connection closed before the end of the body"))));
    const onAbort = () => fail(signal!.reason instanceof Error ? signal!.reason : new Error("aborted"));
    if (signal?.aborted) onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });
    socket.once("close", () => signal?.removeEventListener("abort", onAbort));
  });
}

/** Memory the socket reads into: not zeroed first (every byte handed on was read into it). */
function newSlab(bytes: number): Uint8Array {
  const buffer = Buffer.allocUnsafeSlow(bytes);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/** Framing of a body: a length, chunked, or until the connection closes. */
export type Framing = { length: number } | "chunked" | "close";

/** Hands body bytes to a Web stream with backpressure (a full queue stops the socket's reads). */
class BodyReader {
  readonly stream: ReadableStream<Uint8Array>;
  private controller!: ReadableStreamDefaultController<Uint8Array>;
  private pending: Uint8Array[] = [];
  private flushQueued = false;
  private done = false;
  private left: number; // length framing: bytes still to come; chunked: bytes left in the chunk (incl. its CRLF)
  private sizeLine = "";

  constructor(private readonly framing: Framing, private readonly socket: Socket, private readonly onError: (error: Error) => void) {
    this.left = typeof framing === "object" ? framing.length : 0;
    this.stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => void (this.controller = controller),
        pull: () => void socket.resume(),
        cancel: () => {
          this.done = true;
          socket.destroy();
        },
      },
      new ByteLengthQueuingStrategy({ highWaterMark: SLAB_BYTES }),
    );
    if (typeof framing === "object" && framing.length === 0) this.finish();
  }

  /** New bytes from the socket; false pauses its reads. */
  take(bytes: Uint8Array): boolean {
    if (this.done) return false;
    if (this.framing === "chunked") this.takeChunked(bytes);
    else if (this.framing === "close") this.push(bytes);
    else {
      const data = bytes.subarray(0, this.left);
      this.left -= data.byteLength;
      this.push(data);
      if (this.left === 0) this.finish();
    }
    return !this.done && (this.controller.desiredSize ?? 0) > 0;
  }

  /** The connection ended (FIN): the end of a `close` body, early for the others. */
  end(): void {
    if (this.framing === "close") this.finish();
    else this.fail(new Error("upstream connection closed before the end of the body"));
  }

  fail(error: Error): void {
    if (this.done) return;
    this.done = true;
    this.pending = [];
    this.controller.error(error);
  }

  private takeChunked(bytes: Uint8Array): void {
    let at = 0;
    while (at < bytes.byteLength && !this.done) {
      if (this.left > 0) {
        const take = Math.min(this.left, bytes.byteLength - at);
        const data = Math.min(take, this.left - 2); // a chunk's last 2 bytes are its CRLF
        if (data > 0) this.push(bytes.subarray(at, at + data));
        this.left -= take;
        at += take;
        continue;
      }
      const newline = bytes.indexOf(10, at);
      const end = newline < 0 ? bytes.byteLength : newline;
      this.sizeLine += String.fromCharCode(...bytes.subarray(at, Math.min(end, at + 100)));
      if (this.sizeLine.length > 100) return this.onError(new Error("upstream sent a malformed chunked body"));
      if (newline < 0) return;
      at = newline + 1;
      const size = Number.parseInt(this.sizeLine.split(";")[0]!.trim(), 16);
      this.sizeLine = "";
      if (!Number.isSafeInteger(size) || size < 0) return this.onError(new Error("upstream sent a malformed chunked body"));
      if (size === 0) return this.finish(); // trailers are not read: the connection closes
      this.left = size + 2;
    }
  }

  private push(bytes: Uint8Array): void {
    if (bytes.byteLength === 0) return;
    this.pending.push(bytes);
    const last = this.pending[this.pending.length - 1]!;
    // A chunk that reaches a slab's end cannot grow: hand it on now.
    if (last.byteOffset + last.byteLength === last.buffer.byteLength) this.flush();
    else if (!this.flushQueued) (this.flushQueued = true), setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushQueued = false;
    if (this.done && this.pending.length === 0) return;
    // Views that follow each other in one slab become one chunk.
    let run: Uint8Array | undefined;
    for (const view of this.pending) {
      if (run && run.buffer === view.buffer && run.byteOffset + run.byteLength === view.byteOffset) {
        run = new Uint8Array(run.buffer, run.byteOffset, run.byteLength + view.byteLength);
        continue;
      }
      if (run) this.controller.enqueue(run);
      run = view;
    }
    if (run) this.controller.enqueue(run);
    this.pending = [];
  }

  private finish(): void {
    if (this.done) return;
    this.flush();
    this.done = true;
    this.controller.close();
    this.socket.destroy();
  }
}
