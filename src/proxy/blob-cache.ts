/**
 * Blobs through the cache (distribution's registry/proxy/proxyblobstore.go, streaming).
 * A local blob is served by the normal route. On a miss the upstream's body is split with a
 * bounded tee: one branch goes to the client as it arrives, the other is hashed and written
 * to the store, which makes it visible only once the whole body matched its digest (the
 * store's put is atomic; a failed verification errors the stream, so nothing is written).
 * If the client goes away, the fill goes on in the background; if the upstream dies, both
 * fail and nothing is left behind. Concurrent misses in this process wait for the one fill.
 */
import type { Context } from "../context.ts";
import type { Digest } from "../digest.ts";
import { RegistryError } from "../errors.ts";
import type { Hasher } from "../hashing.ts";
import { blobKey } from "../paths.ts";
import { linkBlob, statLinkedBlob } from "../repository.ts";
import { upstreamStatusError, type Proxied, type PullThrough } from "./pull-through.ts";
import { teeBounded } from "./tee.ts";
import { UpstreamUnavailable } from "./upstream-client.ts";

const BLOB_TYPE = "application/octet-stream";

/** A Response for a blob the normal route cannot serve yet, or undefined once it can. */
export async function serveProxiedBlob(ctx: Context, proxy: PullThrough, proxied: Proxied, request: Request, name: string, digest: Digest): Promise<Response | undefined> {
  if ((await statLinkedBlob(ctx, name, digest)) !== null) return proxy.setStatus(request, "hit"), undefined;
  const path = `/v2/${proxied.remote}/blobs/${digest.value}`;
  if (request.method === "HEAD") return headUpstreamBlob(proxied, path, digest);
  proxy.setStatus(request, "miss");

  if (await ctx.store.head(blobKey(digest))) {
    // The bytes came through another repository: link them once the upstream says this one has them too.
    const head = await proxied.client.request(path, { method: "HEAD", scope: proxied.scope });
    if (head.status === 404) throw new RegistryError("BLOB_UNKNOWN", { digest: digest.value });
    if (!head.ok) throw await upstreamStatusError(head, digest.value);
    await linkBlob(ctx, name, digest);
    return undefined;
  }
  const running = proxy.running(`blob:${digest.value}`);
  if (!running && !request.headers.has("range")) {
    let toClient!: (stream: { body: ReadableStream<Uint8Array>; size?: number }) => void;
    const ready = new Promise<{ body: ReadableStream<Uint8Array>; size?: number }>((resolve, reject) => {
      toClient = resolve;
      startFill(ctx, proxy, proxied, name, digest, path, toClient).catch(reject); // after `ready` resolved: a no-op
    });
    const { body, size } = await ready;
    const headers = new Headers({ "Docker-Content-Digest": digest.value, "Content-Type": BLOB_TYPE, "X-Berth-Cache": "miss" });
    if (size === undefined) return new Response(body, { headers });
    headers.set("Content-Length", String(size));
    return new Response(ctx.sizedBody(body, size), { headers });
  }
  // Another request is fetching it (or this one wants a range): wait for the fill, then serve from the store.
  await (running ?? startFill(ctx, proxy, proxied, name, digest, path)).catch((error: unknown) => {
    // A fill that died mid-body failed with whatever broke the stream: say what it means here.
    if (error instanceof RegistryError) throw error;
    throw new UpstreamUnavailable(`upstream ${proxied.client.options.url} failed while sending ${digest.value}: ${(error as Error).message}`);
  });
  await linkBlob(ctx, name, digest);
  return undefined;
}

async function headUpstreamBlob(proxied: Proxied, path: string, digest: Digest): Promise<Response> {
  const head = await proxied.client.request(path, { method: "HEAD", scope: proxied.scope });
  if (head.status === 404) throw new RegistryError("BLOB_UNKNOWN", { digest: digest.value });
  if (!head.ok) throw await upstreamStatusError(head, digest.value);
  const headers = new Headers({ "Docker-Content-Digest": digest.value, "Content-Type": BLOB_TYPE, "X-Berth-Cache": "miss" });
  const length = head.headers.get("content-length");
  if (length) headers.set("Content-Length", length);
  return new Response(null, { headers });
}

/**
 * Fetch the blob once (registered before the upstream is asked, so a concurrent miss finds it)
 * and store it; with `toClient`, a bounded tee hands the client its branch as soon as the
 * upstream answers. Resolves when the blob is stored and linked.
 */
function startFill(
  ctx: Context, proxy: PullThrough, proxied: Proxied, name: string, digest: Digest, path: string,
  toClient?: (stream: { body: ReadableStream<Uint8Array>; size?: number }) => void,
): Promise<void> {
  const upstream = proxied.client.options.url;
  const done = proxy.once(`blob:${digest.value}`, async () => {
    const started = Date.now();
    const response = await proxied.client.request(path, { method: "GET", scope: proxied.scope });
    if (response.status === 404) {
      await response.body?.cancel();
      throw new RegistryError("BLOB_UNKNOWN", { digest: digest.value });
    }
    if (!response.ok || !response.body) throw await upstreamStatusError(response, digest.value);
    const declared = response.headers.get("content-length");
    const size = declared !== null && /^\d+$/.test(declared) ? Number(declared) : undefined;
    const timeoutMs = proxied.client.timeoutMs;
    const stalled = () => new UpstreamUnavailable(`upstream ${upstream} sent no bytes of ${digest.value} for ${timeoutMs / 1000}s`);
    const [first, second] = teeBounded(response.body, toClient ? 2 : 1, undefined, { ms: timeoutMs, error: stalled });
    const toStore = (second ?? first!).pipeThrough(verifyBlob(ctx.hasher(digest.algorithm), digest, size, (n) => proxy.countUpstreamBytes(n)));
    const stored = (async () => {
      const bytes = await ctx.store.put(blobKey(digest), toStore, { size });
      await linkBlob(ctx, name, digest);
      ctx.emit("onCacheFill", { name, digest: digest.value, size: bytes, upstream, ms: Date.now() - started });
    })();
    toClient?.({ body: first!.pipeThrough(endAfter(stored)), size });
    await stored;
  });
  // Workers: keep the isolate alive until the fill ends, even once the client has its bytes.
  ctx.background(() => done.catch((error) => console.warn(`berth: cache fill of ${digest.value} from ${upstream} abandoned: ${(error as Error).message}`)));
  return done;
}

/**
 * The client's last chunk is sent only once the store has the blob (a moment after the last byte), so a
 * pull that finished finds it cached, and bytes that failed verification fail the client too.
 * Any other store failure (a full disk) leaves the client's complete, correct copy alone.
 */
function endAfter(stored: Promise<void>): TransformStream<Uint8Array, Uint8Array> {
  stored.catch(() => {}); // observed in flush, or by the fill's caller
  let held: Uint8Array | undefined; // the last chunk waits for the verdict, so a bad blob arrives short
  return new TransformStream({
    transform(chunk, controller) {
      if (held) controller.enqueue(held);
      held = chunk;
    },
    async flush(controller) {
      try {
        await stored;
      } catch (error) {
        if (error instanceof RegistryError && error.code === "DIGEST_INVALID") throw error;
      }
      if (held) controller.enqueue(held);
    },
  });
}

/**
 * Hash and count the bytes on their way to the store; at the end, fail unless they are the
 * blob. The last chunk is held back until the check passes: a store that commits once it has
 * the announced size (R2 behind a FixedLengthStream) never sees a complete unverified body.
 */
function verifyBlob(hasher: Hasher, digest: Digest, size: number | undefined, onBytes: (n: number) => void): TransformStream<Uint8Array, Uint8Array> {
  let count = 0;
  let held: Uint8Array | undefined;
  return new TransformStream({
    transform(chunk, controller) {
      count += chunk.byteLength;
      onBytes(chunk.byteLength);
      hasher.update(chunk);
      if (held) controller.enqueue(held);
      held = chunk;
    },
    async flush(controller) {
      const actual = `${digest.algorithm}:${await hasher.digest()}`;
      if ((size !== undefined && count !== size) || actual !== digest.value) {
        throw new RegistryError("DIGEST_INVALID", { expected: digest.value, actual, size: count }, { status: 502, message: "upstream sent bytes that do not match the digest" });
      }
      if (held) controller.enqueue(held);
    },
  });
}
