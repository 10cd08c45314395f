/**
 * Runs the ONE BlobStore contract suite against stores that only exist inside another
 * runtime (Deno's file APIs, R2 inside workerd): that runtime serves its store with
 * `serveStoreRpc`, and the suite (in Node) talks to it through `RemoteStore`.
 * Web APIs only, so every runtime can import the server half.
 */
import { NotFoundError, type BlobStore, type ByteRange, type ListOptions, type ListResult, type ObjectBody, type ObjectStat, type PutOptions } from "../../src/index.ts";
import { lockedBody } from "../../src/streams.ts";

/** The runtime side: answer `/rpc/...` requests by calling `store`. */
export async function serveStoreRpc(store: BlobStore, request: Request): Promise<Response> {
  const url = new URL(request.url);
  const key = decodeURIComponent(url.pathname.replace(/^\/rpc\/object\//, ""));
  const param = (name: string) => url.searchParams.get(name);
  try {
    if (url.pathname === "/rpc/list") {
      const limit = param("limit");
      const result = await store.list(param("prefix") ?? "", { startAfter: param("startAfter") ?? undefined, limit: limit ? Number(limit) : undefined });
      return Response.json(result);
    }
    if (url.pathname === "/rpc/concat") {
      const { sources, dest } = (await request.json()) as { sources: string[]; dest: string };
      await store.concat(sources, dest);
      return Response.json({});
    }
    if (!url.pathname.startsWith("/rpc/object/")) return new Response("not found", { status: 404 });
    switch (request.method) {
      case "HEAD": {
        const info = await store.head(key);
        return new Response(null, { status: info ? 200 : 404, headers: info ? { "x-size": String(info.size), "x-modified": String(info.modifiedMs) } : {} });
      }
      case "GET": {
        const offset = param("offset");
        const range = offset === null ? undefined : { offset: Number(offset), length: Number(param("length")) };
        const object = await store.get(key, range);
        if (!object) return new Response(null, { status: 404 });
        return new Response(object.body, { headers: { "x-size": String(object.size) } });
      }
      case "PUT": {
        const size = param("size");
        const written = await store.put(key, request.body ?? new Uint8Array(0), size === null ? undefined : { size: Number(size) });
        return Response.json({ written });
      }
      case "DELETE":
        await store.delete(key);
        return Response.json({});
    }
    return new Response("method not allowed", { status: 405 });
  } catch (error) {
    // NotFoundError is part of the contract (concat of a missing source): send it as such.
    if (error instanceof NotFoundError) return new Response(error.key, { status: 404, headers: { "x-not-found": "1" } });
    return new Response(String(error instanceof Error ? error.message : error), { status: 500 });
  }
}

/** The Node side: a BlobStore whose every call is a request to `serveStoreRpc`. */
export class RemoteStore implements BlobStore {
  constructor(private readonly baseUrl: string) {}

  private url(path: string, query: Record<string, string | number | undefined> = {}): string {
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) if (value !== undefined) search.set(name, String(value));
    return `${this.baseUrl}/rpc/${path}${search.size ? `?${search}` : ""}`;
  }

  private objectUrl(key: string, query?: Record<string, string | number | undefined>) {
    return this.url(`object/${encodeURIComponent(key)}`, query);
  }

  async head(key: string): Promise<ObjectStat | null> {
    const response = await check(await fetch(this.objectUrl(key), { method: "HEAD" }), [404]);
    return response.status === 404 ? null : { size: Number(response.headers.get("x-size")), modifiedMs: Number(response.headers.get("x-modified")) };
  }

  async get(key: string, range?: ByteRange): Promise<ObjectBody | null> {
    const response = await check(await fetch(this.objectUrl(key, { offset: range?.offset, length: range?.length })), [404]);
    if (response.status === 404) return null;
    // Locked now: Node's fetch cancels an unread body once its Response is collected (streams.ts).
    return { size: Number(response.headers.get("x-size")), body: response.body ? lockedBody(response.body) : new Blob([]).stream() };
  }

  async put(key: string, body: ReadableStream<Uint8Array> | Uint8Array, options?: PutOptions): Promise<number> {
    const response = await check(
      await fetch(this.objectUrl(key, { size: options?.size }), { method: "PUT", body: body as BodyInit, duplex: "half" } as RequestInit),
    );
    return ((await response.json()) as { written: number }).written;
  }

  async concat(sources: string[], dest: string): Promise<void> {
    await check(await fetch(this.url("concat"), { method: "POST", body: JSON.stringify({ sources, dest }) }));
  }

  async delete(key: string): Promise<void> {
    await check(await fetch(this.objectUrl(key), { method: "DELETE" }));
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    const response = await check(await fetch(this.url("list", { prefix, startAfter: options.startAfter, limit: options.limit })));
    return (await response.json()) as ListResult;
  }
}

async function check(response: Response, allowed: number[] = []): Promise<Response> {
  if (response.ok || allowed.includes(response.status)) return response;
  if (response.headers.get("x-not-found")) throw new NotFoundError(await response.text());
  throw new Error(`store rpc ${response.status}: ${await response.text()}`);
}
