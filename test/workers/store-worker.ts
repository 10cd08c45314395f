/**
 * A test Worker that serves R2Store over store-rpc, so the BlobStore contract suite (in
 * Node) runs against R2 inside workerd. `/small/rpc/...` is an R2Store whose single puts
 * stop at 6 MiB, so multipart puts and concat are exercised with test-sized objects.
 */
import { R2Store } from "../../runtimes/cloudflare/r2-store.ts";
import { serveStoreRpc } from "../storage/store-rpc.ts";

interface Env {
  BUCKET: R2Bucket;
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/reset") {
      // A fresh, empty store for each contract test.
      for (let page = await env.BUCKET.list(); page.objects.length > 0; page = await env.BUCKET.list()) {
        await env.BUCKET.delete(page.objects.map((object) => object.key));
      }
      return new Response(null, { status: 204 });
    }
    if (url.pathname.startsWith("/small/")) {
      url.pathname = url.pathname.slice("/small".length);
      return serveStoreRpc(new R2Store(env.BUCKET, { maxSinglePut: 6 * 1024 * 1024 }), new Request(url, request));
    }
    return serveStoreRpc(new R2Store(env.BUCKET), request);
  },
} satisfies ExportedHandler<Env>;
