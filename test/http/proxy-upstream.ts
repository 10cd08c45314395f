/**
 * An upstream registry for the pull-through cache tests: Berth itself (memory store) on a
 * real loopback socket, behind a small front that counts every request, can ask for
 * credentials (Basic, or a Bearer token flow with its own /token endpoint), can cut a blob
 * body in the middle, and can be stopped and started again on the same port.
 */
import type { AddressInfo } from "node:net";
import bcrypt from "bcryptjs";
import { createRegistry, MemoryStore, type Registry } from "../../src/index.ts";
import { serve, type RunningServer } from "../../runtimes/node/server.ts";
import type { Target } from "../targets/index.ts";

export interface TestUpstream {
  url: string;
  /** The upstream as a Target, to push content straight into it (no auth). */
  direct: Target;
  /** Requests seen, as `METHOD /path` (query left out). */
  requests: string[];
  count(pattern: RegExp): number;
  /**
   * "none": open; "basic": user/pass; "bearer": tokens from this front's /token for user/pass;
   * "berth": Berth's own token auth (htpasswd, its /auth/token issuer) on the same store.
   */
  auth: "none" | "basic" | "bearer" | "berth";
  /** Cut the next GET of a blob body after this many bytes (the connection dies). */
  cutNextBlobAfter?: number;
  /** With cutNextBlobAfter: the cut waits for this (the body stalls until then). */
  holdCut?: Promise<void>;
  /** Flip a byte of the next blob body: the upstream sends bytes that do not match the digest. */
  corruptNextBlob?: boolean;
  /** Answer every request with this status (e.g. 503) instead of the registry. */
  failWith?: number;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export const UPSTREAM_USER = "mirror";
export const UPSTREAM_PASSWORD = "s3cret-Pa55";

export async function startTestUpstream(): Promise<TestUpstream> {
  const store = new MemoryStore();
  const inner = createRegistry({ store });
  const withTokens = createRegistry({ store, auth: { htpasswd: `${UPSTREAM_USER}:${bcrypt.hashSync(UPSTREAM_PASSWORD, 4)}\n` } });
  let tokenCount = 0;
  const expected = `Basic ${Buffer.from(`${UPSTREAM_USER}:${UPSTREAM_PASSWORD}`).toString("base64")}`;
  let server: RunningServer | undefined;
  let port = 0;

  const front: Registry = {
    gcObserver: inner.gcObserver,
    metricsSnapshot: () => inner.metricsSnapshot(),
    reload: async () => {},
    async fetch(request) {
      const url = new URL(request.url);
      up.requests.push(`${request.method} ${url.pathname}`);
      if (up.failWith) return new Response("down", { status: up.failWith });
      const authorization = request.headers.get("authorization");
      if (up.auth === "berth") return withTokens.fetch(new Request(request.url, { method: request.method, headers: request.headers }));
      if (url.pathname === "/token") {
        if (authorization !== expected) return new Response("bad credentials", { status: 401 });
        return Response.json({ token: `token-${++tokenCount}-${url.searchParams.get("scope")}`, expires_in: 300 });
      }
      if (up.auth === "basic" && authorization !== expected) {
        return new Response(null, { status: 401, headers: { "WWW-Authenticate": 'Basic realm="upstream"' } });
      }
      if (up.auth === "bearer" && !authorization?.startsWith("Bearer token-")) {
        const name = /^\/v2\/(.+)\/(?:blobs|manifests|tags)\//.exec(url.pathname)?.[1];
        const scope = name ? `,scope="repository:${name}:pull"` : "";
        return new Response(null, { status: 401, headers: { "WWW-Authenticate": `Bearer realm="${up.url}/token",service="test-upstream"${scope}` } });
      }
      const response = await inner.fetch(new Request(request.url, { method: request.method, headers: request.headers }));
      if (up.corruptNextBlob && request.method === "GET" && url.pathname.includes("/blobs/") && response.body) {
        up.corruptNextBlob = false;
        const bytes = new Uint8Array(await response.arrayBuffer());
        bytes[0] ^= 0xff;
        return new Response(bytes, { headers: response.headers });
      }
      const cut = up.cutNextBlobAfter;
      if (cut !== undefined && request.method === "GET" && url.pathname.includes("/blobs/") && response.body) {
        up.cutNextBlobAfter = undefined;
        return new Response(cutAfter(response.body, cut, up.holdCut), { headers: response.headers });
      }
      return response;
    },
  };

  const up: TestUpstream = {
    url: "",
    requests: [],
    auth: "none",
    direct: {
      name: "upstream",
      fetch: (path, init) => inner.fetch(new Request(`http://upstream.test${path}`, { ...init, ...(init?.body instanceof ReadableStream ? { duplex: "half" } : {}) } as RequestInit)),
      close: async () => {},
      lifecycle: () => Promise.reject(new Error("the test upstream runs no lifecycle commands")),
    },
    count: (pattern) => up.requests.filter((r) => pattern.test(r)).length,
    async start() {
      server = await serve({ registry: front, host: "127.0.0.1", port });
      port = (server.server.address() as AddressInfo).port;
      up.url = `http://127.0.0.1:${port}`;
    },
    async stop() {
      await server?.close(100);
      server = undefined;
    },
    close: () => up.stop(),
  };
  await up.start();
  return up;
}

/** The first `limit` bytes of `body`, then an error: the connection is reset mid-body. */
function cutAfter(body: ReadableStream<Uint8Array>, limit: number, hold?: Promise<void>): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let sent = 0;
  return new ReadableStream({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) return controller.close();
      const room = limit - sent;
      if (value.byteLength >= room) {
        if (room > 0) controller.enqueue(value.subarray(0, room));
        await reader.cancel();
        // Let the partial bytes go out before the connection dies.
        await new Promise((resolve) => setTimeout(resolve, 50));
        await hold;
        return controller.error(new Error("upstream killed mid-blob"));
      }
      sent += value.byteLength;
      controller.enqueue(value);
    },
  });
}
