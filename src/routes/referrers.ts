// end-12a, end-12b: GET /v2/<name>/referrers/<digest>[?artifactType=<type>][&n=<n>&last=<digest>]
import type { RegistryRouter } from "../routing.ts";
import type { Context } from "../context.ts";
import { parseDigest } from "../digest.ts";
import { readRevision } from "../manifests.ts";
import { OCI_INDEX } from "../media-types.ts";
import { referrerKey, referrersPrefix } from "../paths.ts";
import { readText } from "../repository.ts";
import { digestParam, nameOf, queryInt } from "../routing.ts";

/** Most referrers in one answer; more come on the pages the `Link` header names (spec: "MAY paginate"). */
const MAX_PAGE = 1000;

export function registerReferrerRoutes(router: RegistryRouter, ctx: Context): void {
  router.get("/v2/:name+/referrers/:digest", async (request) => {
    const name = nameOf(request);
    const subject = digestParam(request);
    const url = new URL(request.url);
    const artifactType = url.searchParams.get("artifactType");
    const n = Math.min(MAX_PAGE, queryInt(url, "n") ?? MAX_PAGE);
    const lastText = url.searchParams.get("last");
    const last = lastText === null ? undefined : parseDigest(lastText);
    // Links are keyed by referrer digest, so a page is one listing from `last`, read until
    // the page and one more match (which says a next page exists) are found.
    const manifests = [];
    let more = false;
    let startAfter = last && referrerKey(name, subject, last);
    for (let done = n === 0; !done; ) {
      const page = await ctx.store.list(referrersPrefix(name, subject), { startAfter, limit: Math.min(MAX_PAGE, n + 1 - manifests.length) });
      for (const key of page.keys) {
        const link = await readText(ctx, key);
        if (link === null) continue;
        const digest = parseDigest((JSON.parse(link) as { digest: string }).digest);
        const revision = await readRevision(ctx, name, digest);
        if (!revision || (artifactType !== null && revision.artifactType !== artifactType)) continue;
        if (manifests.length === n) {
          more = true;
          break;
        }
        manifests.push({
          mediaType: revision.mediaType,
          digest: digest.value,
          size: revision.size,
          ...(revision.artifactType && { artifactType: revision.artifactType }),
          ...(revision.annotations && { annotations: revision.annotations }),
        });
      }
      done = more || !page.truncated;
      startAfter = page.keys.at(-1);
    }
    const headers = new Headers({ "Content-Type": OCI_INDEX });
    if (artifactType !== null) headers.set("OCI-Filters-Applied", "artifactType");
    const lastShown = manifests.at(-1);
    if (more && lastShown) {
      const next = new URLSearchParams({ n: String(n), last: lastShown.digest, ...(artifactType !== null && { artifactType }) });
      headers.set("Link", `<${url.pathname}?${next}>; rel="next"`);
    }
    return new Response(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }), { headers });
  });
}
