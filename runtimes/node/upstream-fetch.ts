/**
 * How Berth on Node fetches its upstreams (the pull-through cache). Blob GETs, the bytes a
 * miss streams, go through bulk-get.ts (one connection, reads of up to 1 MiB into the memory
 * the body's chunks are views of); everything else (manifests, HEADs, tokens) through
 * node:http(s), whose agent keeps connections alive. Node 20's fetch (undici) read a blob
 * at about half node:http's speed, and node:http costs ~7x bulk-get's CPU per byte (README,
 * Pull-through cache). Same contract as fetch for what the cache asks: GET/HEAD without a
 * body, redirects followed (Authorization dropped when the origin changes, as fetch does),
 * the request's signal aborts.
 */
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { bulkGet } from "./bulk-get.ts";

const MAX_REDIRECTS = 5;
const REDIRECTS = [301, 302, 303, 307, 308];
const BLOB_PATH = /\/blobs\/[^/]+$/;

export async function fetchUpstream(request: Request): Promise<Response> {
  let url = new URL(request.url);
  const headers = Object.fromEntries(request.headers);
  // Decided once: the CDN a blob GET redirects to serves the blob too.
  const bulk = request.method === "GET" && BLOB_PATH.test(url.pathname);
  for (let hop = 0; ; hop++) {
    if (bulk) {
      const { head, body } = await bulkGet({ method: "GET", url, headers, signal: request.signal });
      const location = head.headers.get("location");
      if (!location || !REDIRECTS.includes(head.status) || hop === MAX_REDIRECTS) return new Response(body, head);
      await body?.cancel();
      url = nextHop(url, location, headers);
      continue;
    }
    const response = await send(url, request.method, headers, request.signal);
    const location = response.headers.location;
    if (!location || !REDIRECTS.includes(response.statusCode ?? 0) || hop === MAX_REDIRECTS) {
      return toResponse(response, request.method);
    }
    response.resume();
    url = nextHop(url, location, headers);
  }
}

function nextHop(url: URL, location: string, headers: Record<string, string>): URL {
  const next = new URL(location, url);
  if (next.origin !== url.origin) delete headers.authorization;
  return next;
}

function send(url: URL, method: string, headers: Record<string, string>, signal: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request = (url.protocol === "https:" ? httpsRequest : httpRequest)(url, { method, headers, signal });
    request.once("response", resolve);
    request.once("error", reject);
    request.end();
  });
}

function toResponse(response: IncomingMessage, method: string): Response {
  const status = response.statusCode ?? 502;
  const headers = new Headers();
  for (const [name, value] of Object.entries(response.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(", ") : value);
  }
  const empty = method === "HEAD" || status === 204 || status === 304;
  if (empty) response.resume();
  return new Response(empty ? null : bodyOf(response), { status, headers });
}

/**
 * The body as a Web stream of views on Node's buffers (no copies). Events that arrive after
 * the stream was cancelled or ended are ignored: an error answer's body is cancelled while
 * its data may still be in flight. A body that stops short (the upstream died) errors.
 */
function bodyOf(response: IncomingMessage): ReadableStream<Uint8Array> {
  let settled = false;
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        const settle = (end: () => void) => {
          if (!settled) (settled = true), end();
        };
        response.on("data", (chunk: Buffer) => {
          if (settled) return;
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
          if ((controller.desiredSize ?? 0) <= 0) response.pause();
        });
        response.once("end", () => settle(() => controller.close()));
        response.once("error", (error) => settle(() => controller.error(error)));
        response.once("close", () => settle(() => controller.error(new Error("upstream connection closed before the end of the body"))));
      },
      pull() {
        response.resume();
      },
      cancel() {
        settled = true;
        response.destroy();
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: 1024 * 1024 }),
  );
}
