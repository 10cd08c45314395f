/**
 * Manifests and tags through the cache (distribution's proxymanifeststore.go and
 * proxytagservice.go, with a TTL and stale-if-error). A manifest by digest is immutable:
 * once cached it is never asked for again. A tag is served from the cache while it is
 * younger than the TTL, then revalidated with a HEAD (no GET when the digest is unchanged);
 * when the upstream cannot answer, the cached tag is served and marked stale. The cache
 * only fills the store in the layout the normal routes read; they then answer.
 */
import type { Context } from "../context.ts";
import { parseDigest, type Digest } from "../digest.ts";
import { RegistryError } from "../errors.ts";
import { parseManifest, readRevision, type Revision } from "../manifests.ts";
import { DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST } from "../media-types.ts";
import { blobKey, proxyTagKey, referrerKey, revisionKey, tagKey } from "../paths.ts";
import { markRepository, readText, repositoryExists, writeJson } from "../repository.ts";
import { PULL_MARK_INTERVAL_MS } from "../lifecycle/cache-ttl.ts";
import { collectBytes } from "../streams.ts";
import { upstreamStatusError, type CacheStatus, type Proxied, type PullThrough } from "./pull-through.ts";
import { UpstreamUnavailable } from "./upstream-client.ts";

const ACCEPT = [OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST].join(", ");

/**
 * When a tag was last confirmed at the upstream, what it named then, and when it was last
 * pulled (the record's write time is what the cache TTL reads: src/lifecycle/cache-ttl.ts).
 */
interface TagCheck {
  digest: string;
  checkedAt: number;
  pulledAt?: number;
}

/** Make sure the store holds what a manifest GET/HEAD asks for (or throw); the normal route then serves it. */
export async function prepareProxiedManifest(ctx: Context, proxy: PullThrough, proxied: Proxied, request: Request, name: string, reference: { tag: string } | { digest: Digest }): Promise<void> {
  let status: CacheStatus;
  if ("digest" in reference) {
    const known = (await readRevision(ctx, name, reference.digest)) !== null;
    if (!known) await proxy.once(`manifest:${name}@${reference.digest.value}`, () => fetchManifest(ctx, proxy, proxied, name, reference.digest.value, reference.digest));
    status = known ? "hit" : "miss";
  } else {
    status = await proxy.once(`tag:${name}:${reference.tag}`, () => revalidateTag(ctx, proxy, proxied, name, reference.tag));
  }
  proxy.setStatus(request, status);
}

async function revalidateTag(ctx: Context, proxy: PullThrough, proxied: Proxied, name: string, tag: string): Promise<CacheStatus> {
  const local = await readJson<{ digest: string }>(ctx, tagKey(name, tag));
  const check = await readJson<TagCheck>(ctx, proxyTagKey(name, tag));
  if (local && check?.digest === local.digest && Date.now() - check.checkedAt < proxy.tagTtlMs) {
    await markPulled(ctx, name, tag, check);
    return "hit";
  }
  try {
    let digest: string | undefined;
    if (local) {
      const head = await proxied.client.request(`/v2/${proxied.remote}/manifests/${tag}`, { method: "HEAD", headers: { Accept: ACCEPT }, scope: proxied.scope });
      if (head.status === 404) {
        await forgetTag(ctx, name, tag);
        throw new RegistryError("MANIFEST_UNKNOWN", { name, tag }, { message: `tag unknown to the upstream ${proxied.client.options.url}` });
      }
      if (!head.ok) throw await upstreamStatusError(head, `${name}:${tag}`);
      digest = head.headers.get("docker-content-digest") ?? undefined;
    }
    let status: CacheStatus = "hit";
    if (!local || digest !== local.digest) {
      const known = digest ? await readRevision(ctx, name, parseDigest(digest)) : null;
      const fetched = known ? { digest, revision: known } : await fetchManifest(ctx, proxy, proxied, name, digest ?? tag, digest ? parseDigest(digest) : undefined);
      await writeJson(ctx, tagKey(name, tag), { ...fetched.revision, digest: fetched.digest });
      digest = fetched.digest;
      status = "miss";
    }
    await writeJson(ctx, proxyTagKey(name, tag), { digest: digest!, checkedAt: Date.now(), pulledAt: Date.now() } satisfies TagCheck);
    return status;
  } catch (error) {
    const upstreamDown = error instanceof UpstreamUnavailable || (error instanceof RegistryError && error.code === "TOOMANYREQUESTS");
    if (!upstreamDown) throw error;
    if (!local) throw new RegistryError(error.code, { name, tag }, { status: error.status, message: `${error.message}; ${name}:${tag} is not cached` });
    console.warn(`berth: serving cached ${name}:${tag} (stale): ${error.message}`);
    // Pulled while the upstream is down: the cache TTL must not take it (the next pull still revalidates).
    await markPulled(ctx, name, tag, check ?? { digest: local.digest, checkedAt: 0 });
    return "stale";
  }
}

/** GET a manifest from the upstream, check it is the one asked for, and store it as a push would. */
async function fetchManifest(ctx: Context, proxy: PullThrough, proxied: Proxied, name: string, reference: string, expected: Digest | undefined): Promise<{ digest: string; revision: Revision }> {
  const response = await proxied.client.request(`/v2/${proxied.remote}/manifests/${reference}`, { method: "GET", headers: { Accept: ACCEPT }, scope: proxied.scope });
  if (response.status === 404) {
    await response.body?.cancel();
    throw new RegistryError("MANIFEST_UNKNOWN", { name, reference }, { message: `manifest unknown to the upstream ${proxied.client.options.url}` });
  }
  if (!response.ok || !response.body) throw await upstreamStatusError(response, `${name}:${reference}`);
  const bytes = await collectBytes(response.body, ctx.maxManifestBytes);
  if (!bytes) {
    await response.body.cancel().catch(() => {});
    throw new RegistryError("UNAVAILABLE", { name, reference, limit: ctx.maxManifestBytes }, { status: 502, message: `upstream manifest is larger than ${ctx.maxManifestBytes} bytes (--max-manifest-size)` });
  }
  proxy.countUpstreamBytes(bytes.byteLength);
  const claimed = response.headers.get("docker-content-digest");
  const algorithm = expected?.algorithm ?? (claimed?.startsWith("sha512:") ? "sha512" : "sha256");
  const hasher = ctx.hasher(algorithm);
  hasher.update(bytes);
  const digest = parseDigest(`${algorithm}:${await hasher.digest()}`);
  if ((expected && expected.value !== digest.value) || (claimed && claimed.startsWith(`${algorithm}:`) && claimed !== digest.value)) {
    throw new RegistryError("DIGEST_INVALID", { expected: expected?.value ?? claimed, actual: digest.value }, { status: 502, message: "upstream sent a manifest that does not match its digest" });
  }
  const manifest = parseManifest(bytes, response.headers.get("content-type"));
  const revision: Revision = { mediaType: manifest.mediaType, size: bytes.byteLength, artifactType: manifest.artifactType, annotations: manifest.annotations, subject: manifest.subject?.value };
  // Same order as a push: bytes, revision, referrer, tag (by the caller). Blobs come later, on demand.
  if (!(await ctx.store.head(blobKey(digest)))) await ctx.store.put(blobKey(digest), bytes);
  await writeJson(ctx, revisionKey(name, digest), revision);
  if (manifest.subject) await writeJson(ctx, referrerKey(name, manifest.subject, digest), { digest: digest.value });
  await markRepository(ctx, name);
  ctx.emit("onCacheFill", { name, digest: digest.value, size: bytes.byteLength, upstream: proxied.client.options.url, ms: 0 });
  return { digest: digest.value, revision };
}

/** Rewrite the tag's record if its last pull mark is older than PULL_MARK_INTERVAL_MS (a pull is rarely a write). */
async function markPulled(ctx: Context, name: string, tag: string, check: TagCheck): Promise<void> {
  const now = Date.now();
  if (now - (check.pulledAt ?? check.checkedAt) < PULL_MARK_INTERVAL_MS) return;
  await writeJson(ctx, proxyTagKey(name, tag), { ...check, pulledAt: now } satisfies TagCheck);
}

/** The upstream no longer has the tag: neither does the cache. */
async function forgetTag(ctx: Context, name: string, tag: string): Promise<void> {
  await ctx.store.delete(tagKey(name, tag));
  await ctx.store.delete(proxyTagKey(name, tag));
}

/** tags/list of a proxied repository comes from the upstream; the cached tags when it is down. */
export async function listProxiedTags(ctx: Context, proxy: PullThrough, proxied: Proxied, request: Request, name: string): Promise<Response | undefined> {
  // Only the pagination parameters go upstream.
  const params = new URL(request.url).searchParams;
  const forwarded = new URLSearchParams([...params].filter(([key]) => key === "n" || key === "last"));
  const query = forwarded.size ? `?${forwarded}` : "";
  try {
    const response = await proxied.client.request(`/v2/${proxied.remote}/tags/list${query}`, { method: "GET", scope: proxied.scope });
    if (response.status === 404) {
      await response.body?.cancel();
      throw new RegistryError("NAME_UNKNOWN", { name });
    }
    if (!response.ok) throw await upstreamStatusError(response, `${name} tags`);
    const body = (await response.json().catch(() => ({}))) as { tags?: unknown };
    const tags = Array.isArray(body.tags) ? body.tags.filter((t): t is string => typeof t === "string") : [];
    const headers = new Headers({ "Content-Type": "application/json", "X-Berth-Cache": "miss" });
    const link = response.headers.get("link");
    if (link) headers.set("Link", link.replace(`/v2/${proxied.remote}/`, `/v2/${name}/`));
    return new Response(JSON.stringify({ name, tags }), { headers });
  } catch (error) {
    if (!(error instanceof UpstreamUnavailable) || !(await repositoryExists(ctx, name))) throw error;
    proxy.setStatus(request, "stale");
    return undefined;
  }
}

async function readJson<T>(ctx: Context, key: string): Promise<T | null> {
  const text = await readText(ctx, key);
  return text === null ? null : (JSON.parse(text) as T);
}
