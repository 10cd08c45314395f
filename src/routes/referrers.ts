// end-12a, end-12b: GET /v2/<name>/referrers/<digest>[?artifactType=<type>]
import type { RegistryRouter } from "../routing.ts";
import type { Context } from "../context.ts";
import { parseDigest } from "../digest.ts";
import { readRevision } from "../manifests.ts";
import { OCI_INDEX } from "../media-types.ts";
import { referrersPrefix } from "../paths.ts";
import { listAll, readText } from "../repository.ts";
import { digestParam, nameOf } from "../routing.ts";

export function registerReferrerRoutes(router: RegistryRouter, ctx: Context): void {
  router.get("/v2/:name+/referrers/:digest", async (request) => {
    const name = nameOf(request);
    const subject = digestParam(request);
    const artifactType = new URL(request.url).searchParams.get("artifactType");
    const manifests = [];
    for (const key of await listAll(ctx, referrersPrefix(name, subject))) {
      const link = await readText(ctx, key);
      if (link === null) continue;
      const digest = parseDigest((JSON.parse(link) as { digest: string }).digest);
      const revision = await readRevision(ctx, name, digest);
      if (!revision || (artifactType !== null && revision.artifactType !== artifactType)) continue;
      manifests.push({
        mediaType: revision.mediaType,
        digest: digest.value,
        size: revision.size,
        ...(revision.artifactType && { artifactType: revision.artifactType }),
        ...(revision.annotations && { annotations: revision.annotations }),
      });
    }
    const headers = new Headers({ "Content-Type": OCI_INDEX });
    if (artifactType !== null) headers.set("OCI-Filters-Applied", "artifactType");
    return new Response(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }), { headers });
  });
}
