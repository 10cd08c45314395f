/** Everything the manifest page shows, in one answer: the manifest, its config, children, referrers. */
import type { Context } from "../context.ts";
import { isDigestLike, parseDigest } from "../digest.ts";
import { readRevision } from "../manifests.ts";
import { referrersPrefix } from "../paths.ts";
import { validateTag } from "../reference.ts";
import { listAll, readText } from "../repository.ts";
import { decodeParam } from "../routing.ts";
import { resolveManifest, type Reference } from "../routes/manifests.ts";
import { readConfig, readManifestJson, type Json } from "./summaries.ts";

export async function describeManifest(ctx: Context, name: string, rawReference: string) {
  const text = decodeParam(rawReference);
  const reference: Reference = isDigestLike(text) ? { digest: parseDigest(text) } : { tag: validateTag(text) };
  const { digest, revision } = await resolveManifest(ctx, name, reference);
  const manifest = await readManifestJson(ctx, digest.value);
  const json: Json = manifest?.json ?? {};
  const isIndex = Array.isArray(json.manifests);
  const children = isIndex
    ? await Promise.all((json.manifests as Json[]).map(async (child) => {
        const childRevision = await readRevision(ctx, name, parseDigest(String(child.digest))).catch(() => null);
        return { ...child, pushedAt: childRevision?.pushedAt ?? null };
      }))
    : undefined;
  return {
    name,
    tag: reference.tag ?? null,
    digest: digest.value,
    mediaType: revision.mediaType,
    artifactType: revision.artifactType ?? null,
    size: revision.size,
    pushedAt: revision.pushedAt ?? null,
    subject: revision.subject ?? null,
    annotations: (json.annotations as Record<string, string> | undefined) ?? null,
    config: isIndex ? null : await readConfig(ctx, name, json),
    configDescriptor: json.config ?? null,
    layers: isIndex ? undefined : ((json.layers as Json[] | undefined) ?? []),
    children,
    referrers: await listReferrers(ctx, name, digest.value),
    raw: manifest?.raw ?? null,
  };
}

async function listReferrers(ctx: Context, name: string, subject: string) {
  const referrers = [];
  for (const key of await listAll(ctx, referrersPrefix(name, parseDigest(subject)))) {
    const link = await readText(ctx, key);
    if (link === null) continue;
    const digest = (JSON.parse(link) as { digest: string }).digest;
    const revision = await readRevision(ctx, name, parseDigest(digest));
    if (!revision) continue;
    referrers.push({
      digest, mediaType: revision.mediaType, artifactType: revision.artifactType ?? null, size: revision.size,
      annotations: revision.annotations ?? null, pushedAt: revision.pushedAt ?? null,
    });
  }
  return referrers;
}
