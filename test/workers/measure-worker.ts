/**
 * Micro-measurements inside workerd, for test/workers/measure.ts: hashing speed of the three
 * candidates and R2 write/read speed by part size. Each request does one thing; the caller
 * times it from outside (workerd's clock only moves on I/O).
 */
import { createHash } from "node:crypto";
import { createPortableHasher } from "../../src/hashing.ts";
import { R2Store } from "../../runtimes/cloudflare/r2-store.ts";

interface Env {
  BUCKET: R2Bucket;
}

const CHUNK = 64 * 1024;

/** `mib` MiB of pseudo-random bytes as a stream of 64 KiB chunks, generated on the fly. */
function bytes(mib: number): ReadableStream<Uint8Array> {
  const block = new Uint8Array(CHUNK);
  crypto.getRandomValues(block);
  let left = (mib * 1024 * 1024) / CHUNK;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (left-- === 0) return controller.close();
      block[0] = left & 0xff; // not all chunks alike
      controller.enqueue(block.slice());
    },
  });
}

/** `mib` MiB as 64 KiB views of one random buffer: hashing measured without generating bytes. */
function* views(mib: number): Generator<Uint8Array> {
  const block = new Uint8Array(1024 * 1024);
  crypto.getRandomValues(block.subarray(0, 65536));
  for (let i = 0; i < mib; i++) for (let at = 0; at < block.byteLength; at += CHUNK) yield block.subarray(at, at + CHUNK);
}

async function drain(stream: ReadableStream<Uint8Array>, each: (chunk: Uint8Array) => void = () => {}): Promise<void> {
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) each(chunk);
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const mib = Number(url.searchParams.get("mib") ?? 64);
    const partMiB = Number(url.searchParams.get("part") ?? 5);
    const store = new R2Store(env.BUCKET, { partSize: partMiB * 1024 * 1024 });
    switch (url.pathname) {
      case "/noop":
        return new Response("ok");
      case "/generate":
        await drain(bytes(mib));
        return new Response("ok");
      case "/hash/portable": {
        const hasher = createPortableHasher("sha256");
        for (const chunk of views(mib)) hasher.update(chunk);
        return new Response(await hasher.digest());
      }
      case "/hash/node-crypto": {
        const hash = createHash("sha256");
        for (const chunk of views(mib)) hash.update(chunk);
        return new Response(hash.digest("hex"));
      }
      case "/hash/digest-stream": {
        const digest = new crypto.DigestStream("SHA-256");
        const writer = digest.getWriter();
        for (const chunk of views(mib)) await writer.write(chunk);
        await writer.close();
        return new Response(String((await digest.digest).byteLength));
      }
      case "/r2/put-known":
        return new Response(String(await store.put("m/known", bytes(mib), { size: mib * 1024 * 1024 })));
      case "/r2/put-parts":
        return new Response(String(await store.put("m/parts", bytes(mib))));
      case "/r2/read": {
        const object = await store.get(url.searchParams.get("key") ?? "m/known");
        await drain(object!.body);
        return new Response("ok");
      }
      case "/r2/read-and-hash": {
        const object = await store.get(url.searchParams.get("key") ?? "m/known");
        const hash = createHash("sha256");
        await drain(object!.body, (chunk) => hash.update(chunk));
        return new Response(hash.digest("hex"));
      }
      case "/r2/copy-direct": {
        // The floor for concat: R2 body straight into R2 put, no JS in between.
        const object = await env.BUCKET.get("m/known");
        await env.BUCKET.put("m/copy", object!.body);
        return new Response("ok");
      }
      case "/r2/chunks": {
        const object = await store.get("m/known");
        let count = 0;
        await drain(object!.body, () => count++);
        return new Response(String(count));
      }
      case "/r2/concat":
        await store.concat(["m/known", "m/parts"], "m/concat");
        return new Response("ok");
    }
    return new Response("not found", { status: 404 });
  },
} satisfies ExportedHandler<Env>;
