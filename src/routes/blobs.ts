// end-2: GET/HEAD /v2/<name>/blobs/<digest> (with Range), end-10: DELETE /v2/<name>/blobs/<digest>
import type { RegistryRouter } from "../routing.ts";
import type { IRequest } from "itty-router";
import type { Context } from "../context.ts";
import { RegistryError } from "../errors.ts";
import { blobKey, layerLinkKey } from "../paths.ts";
import { parseRange } from "../range.ts";
import { statLinkedBlob } from "../repository.ts";
import { contentHeaders, digestParam, nameOf, refuseDeletesWhenOff } from "../routing.ts";
import { survivesSweep, touchBlob } from "../lifecycle/sweep-marks.ts";

const BLOB_TYPE = "application/octet-stream";

export function registerBlobRoutes(router: RegistryRouter, ctx: Context): void {
  router.head("/v2/:name+/blobs/:digest", async (request) => {
    const { digest, size } = await findBlob(ctx, request);
    // A 200 here promises the blob to this client's manifest PUT within the grace period (src/lifecycle).
    await touchBlob(ctx.store, digest);
    if (!(await survivesSweep(ctx.store, blobKey(digest)))) throw new RegistryError("BLOB_UNKNOWN", { digest: digest.value });
    return new Response(null, { headers: { ...contentHeaders(digest.value, size, BLOB_TYPE), "Accept-Ranges": "bytes" } });
  });

  router.get("/v2/:name+/blobs/:digest", async (request) => {
    const { name, digest, size } = await findBlob(ctx, request);
    const pulled = () => ctx.emit("onBlobPulled", { name, digest: digest.value, size }, request as unknown as Request);
    // The store may serve the bytes itself (S3 presigned URL): the client follows, Range and all.
    if (ctx.store.presignGet) {
      const location = await ctx.store.presignGet(blobKey(digest));
      pulled();
      return new Response(null, { status: 307, headers: { Location: location, "Docker-Content-Digest": digest.value } });
    }
    const range = parseRange(request.headers.get("range"), size);
    const object = await ctx.store.get(blobKey(digest), range ?? undefined);
    if (!object) throw new RegistryError("BLOB_UNKNOWN", { digest: digest.value });
    pulled();
    const headers = new Headers({ ...contentHeaders(digest.value, size, BLOB_TYPE), "Accept-Ranges": "bytes" });
    if (!range) return new Response(object.body, { headers });
    headers.set("Content-Length", String(range.length));
    headers.set("Content-Range", `bytes ${range.offset}-${range.offset + range.length - 1}/${size}`);
    return new Response(object.body, { status: 206, headers });
  });

  router.delete("/v2/:name+/blobs/:digest", async (request) => {
    refuseDeletesWhenOff(ctx);
    const { name, digest, size } = await findBlob(ctx, request);
    // Only the repository's link goes: other repositories may share the bytes.
    await ctx.store.delete(layerLinkKey(name, digest));
    ctx.emit("onBlobDeleted", { name, digest: digest.value, size }, request as unknown as Request);
    return new Response(null, { status: 202, headers: { "Docker-Content-Digest": digest.value } });
  });
}

async function findBlob(ctx: Context, request: IRequest) {
  const name = nameOf(request);
  const digest = digestParam(request);
  const size = await statLinkedBlob(ctx, name, digest);
  if (size === null) throw new RegistryError("BLOB_UNKNOWN", { digest: digest.value });
  return { name, digest, size };
}
