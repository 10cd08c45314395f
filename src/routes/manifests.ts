// end-3: GET/HEAD /v2/<name>/manifests/<reference>; end-7: PUT; end-9: DELETE
import type { RegistryRouter } from "../routing.ts";
import type { IRequest } from "itty-router";
import { bytesResponse } from "../bytes-response.ts";
import type { Context } from "../context.ts";
import { isDigestLike, parseDigest, type Digest } from "../digest.ts";
import { RegistryError } from "../errors.ts";
import { confirmManifestPut } from "../lifecycle/serving.ts";
import { checkReferences, parseManifest, readRevision, type Revision } from "../manifests.ts";
import { blobKey, referrerKey, revisionKey, tagKey, tagsPrefix } from "../paths.ts";
import { validateTag } from "../reference.ts";
import { listAll, markRepository, readText, touchRepository, writeJson } from "../repository.ts";
import { contentHeaders, decodeParam, nameOf, refuseDeletesWhenOff } from "../routing.ts";
import { readBytes, readLimited } from "../streams.ts";

const MANIFEST = "/v2/:name+/manifests/:reference";

export type Reference = { tag: string; digest?: undefined } | { tag?: undefined; digest: Digest };

function referenceOf(request: IRequest): Reference {
  const text = decodeParam(request.params.reference ?? "");
  return isDigestLike(text) ? { digest: parseDigest(text) } : { tag: validateTag(text) };
}

/** For GET and HEAD: a reference that is no valid tag or digest names nothing, so 404 (PUT keeps the 400). */
function readableReferenceOf(request: IRequest): Reference {
  try {
    return referenceOf(request);
  } catch (error) {
    if (!(error instanceof RegistryError)) throw error;
    throw new RegistryError("MANIFEST_UNKNOWN", { reference: decodeParam(request.params.reference ?? "") }, { message: `manifest unknown: ${error.message}` });
  }
}

export function registerManifestRoutes(router: RegistryRouter, ctx: Context): void {
  router.head(MANIFEST, async (request) => {
    const { digest, revision } = await resolveManifest(ctx, nameOf(request), readableReferenceOf(request));
    return new Response(null, { headers: contentHeaders(digest.value, revision.size, revision.mediaType) });
  });

  router.get(MANIFEST, async (request) => {
    const name = nameOf(request);
    const reference = readableReferenceOf(request);
    const { digest, revision } = await resolveManifest(ctx, name, reference);
    const bytes = await readManifestBytes(ctx, digest);
    ctx.emit("onManifestPulled", { name, reference: reference.tag ?? digest.value, digest: digest.value, mediaType: revision.mediaType, size: revision.size }, request as unknown as Request);
    return bytesResponse(bytes, { headers: contentHeaders(digest.value, revision.size, revision.mediaType) });
  });

  router.put(MANIFEST, async (request) => {
    const name = nameOf(request);
    const reference = referenceOf(request);
    const bytes = await readLimited(request as unknown as Request, ctx.maxManifestBytes);
    const algorithm = reference.digest?.algorithm ?? "sha256";
    const hasher = ctx.hasher(algorithm);
    hasher.update(bytes);
    const digest = parseDigest(`${algorithm}:${await hasher.digest()}`);
    if (reference.digest && reference.digest.hex !== digest.hex) {
      throw new RegistryError("DIGEST_INVALID", { expected: reference.digest.value, actual: digest.value });
    }
    const manifest = parseManifest(bytes, request.headers.get("content-type"));
    await markRepository(ctx, name); // first: a collection finds the repository's revisions through the catalog
    await checkReferences(ctx, name, manifest);

    const revision: Revision = {
      mediaType: manifest.mediaType,
      size: bytes.byteLength,
      artifactType: manifest.artifactType,
      annotations: manifest.annotations,
      subject: manifest.subject?.value,
      pushedAt: new Date().toISOString(),
    };
    const writeManifest = async () => {
      if (!(await ctx.store.head(blobKey(digest)))) await ctx.store.put(blobKey(digest), bytes);
      await writeJson(ctx, revisionKey(name, digest), revision);
      if (manifest.subject) await writeJson(ctx, referrerKey(name, manifest.subject, digest), { digest: digest.value });
    };
    await writeManifest();
    // A collection may be sweeping what this manifest names: keep it, or fail (src/lifecycle).
    await confirmManifestPut(ctx, {
      name, digest, manifest, tag: reference.tag, writeManifest,
      writeTag: () => writeJson(ctx, tagKey(name, reference.tag!), { digest: digest.value, ...revision } satisfies TagLink),
      markRepository: () => touchRepository(ctx, name, revision.pushedAt!),
      removeManifest: async () => {
        if (manifest.subject) await ctx.store.delete(referrerKey(name, manifest.subject, digest));
        await ctx.store.delete(revisionKey(name, digest));
      },
    });
    await touchRepository(ctx, name, revision.pushedAt!);

    ctx.emit("onManifestPushed", { name, reference: reference.tag ?? digest.value, digest: digest.value, mediaType: manifest.mediaType, size: bytes.byteLength }, request as unknown as Request);
    const headers = new Headers({ Location: `/v2/${name}/manifests/${digest.value}`, "Docker-Content-Digest": digest.value });
    if (manifest.subject) headers.set("OCI-Subject", manifest.subject.value);
    return new Response(null, { status: 201, headers });
  });

  router.delete(MANIFEST, async (request) => {
    refuseDeletesWhenOff(ctx);
    const name = nameOf(request);
    const reference = referenceOf(request);
    const { digest, revision } = await resolveManifest(ctx, name, reference);
    if (reference.tag) {
      await ctx.store.delete(tagKey(name, reference.tag));
    } else {
      await deleteManifest(ctx, name, digest, revision);
    }
    ctx.emit("onManifestDeleted", { name, reference: reference.tag ?? digest.value, digest: digest.value }, request as unknown as Request);
    return new Response(null, { status: 202 });
  });
}

/** A manifest's bytes: small (the PUT limit), immutable by digest, so served from a cache when warm. */
export async function readManifestBytes(ctx: Context, digest: Digest): Promise<Uint8Array<ArrayBuffer>> {
  const cached = ctx.manifestBytes.get(digest.value);
  if (cached) return cached;
  const object = await ctx.store.get(blobKey(digest));
  if (!object) throw new RegistryError("MANIFEST_UNKNOWN", { digest: digest.value });
  const bytes = new Uint8Array(await readBytes(object)); // a copy: the cache owns it
  ctx.manifestBytes.set(digest.value, bytes);
  return bytes;
}

/**
 * What a tag holds: its manifest's digest and revision. Pushes write the revision before
 * the tag and deletes remove tags before the revision, so a tag that exists names a
 * manifest that exists, and a pull by tag reads one small object instead of two.
 */
export type TagLink = Revision & { digest: string };

export async function resolveManifest(ctx: Context, name: string, reference: Reference): Promise<{ digest: Digest; revision: Revision }> {
  if (reference.digest === undefined) {
    const text = await readText(ctx, tagKey(name, reference.tag));
    if (text === null) throw new RegistryError("MANIFEST_UNKNOWN", { name, tag: reference.tag });
    const { digest, ...revision } = JSON.parse(text) as TagLink;
    return { digest: parseDigest(digest), revision };
  }
  const revision = await readRevision(ctx, name, reference.digest);
  if (!revision) throw new RegistryError("MANIFEST_UNKNOWN", { name, digest: reference.digest.value });
  return { digest: reference.digest, revision };
}

/** Remove a manifest from a repository: its revision, every tag on it, its referrer entry. */
async function deleteManifest(ctx: Context, name: string, digest: Digest, revision: Revision): Promise<void> {
  for (const key of await listAll(ctx, tagsPrefix(name))) {
    const text = await readText(ctx, key);
    if (text !== null && (JSON.parse(text) as TagLink).digest === digest.value) await ctx.store.delete(key);
  }
  if (revision.subject) await ctx.store.delete(referrerKey(name, parseDigest(revision.subject), digest));
  await ctx.store.delete(revisionKey(name, digest));
}
