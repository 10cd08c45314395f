/**
 * Referrers (distribution-spec 1.1): OCI-Subject on PUT of a manifest with `subject`
 * (end-7), GET /v2/<name>/referrers/<digest>[?artifactType=] (end-12a, end-12b).
 */
import { expect, it } from "vitest";
import { describeTargets, useTarget, type Target } from "../targets/index.ts";
import {
  describeBytes,
  expectError,
  expectStatus,
  imageManifest,
  nextLink,
  indexManifest,
  MT,
  pushBlob,
  pushEmptyConfig,
  pushImage,
  pushManifest,
  randomBytes,
  sha256,
  uniqueName,
  unknownDigest,
  utf8,
  type Descriptor,
} from "./helpers.ts";

const SBOM = "application/vnd.example.sbom.v1";
const SIG = "application/vnd.example.signature.v1";

interface Index {
  schemaVersion: number;
  mediaType: string;
  manifests: Descriptor[];
}

/** Push an artifact manifest whose subject is `subject`; returns its descriptor as a referrer. */
async function pushReferrer(
  t: Target,
  name: string,
  subject: Descriptor,
  options: { artifactType?: string; configMediaType?: string; annotations?: Record<string, string>; tag?: string } = {},
): Promise<{ digest: string; size: number; res: Response; body: string }> {
  let config: Descriptor;
  if (options.configMediaType) {
    const bytes = utf8(JSON.stringify({ kind: options.configMediaType, n: Math.random() }));
    await pushBlob(t, name, bytes);
    config = describeBytes(options.configMediaType, bytes);
  } else {
    config = await pushEmptyConfig(t, name);
  }
  const layer = randomBytes(32);
  await pushBlob(t, name, layer);
  const body = imageManifest({
    artifactType: options.artifactType,
    config,
    layers: [describeBytes("application/octet-stream", layer)],
    subject,
    annotations: options.annotations,
  });
  const { digest, res } = await pushManifest(t, name, options.tag ?? sha256(body), body);
  return { digest, size: utf8(body).byteLength, res, body };
}

async function getReferrers(t: Target, name: string, digest: string, query = ""): Promise<{ res: Response; index: Index }> {
  const res = await t.fetch(`/v2/${name}/referrers/${digest}${query}`);
  await expectStatus(res, 200);
  expect(res.headers.get("content-type")).toBe(MT.ociIndex);
  const index = (await res.json()) as Index;
  expect(index.schemaVersion).toBe(2);
  expect(index.mediaType).toBe(MT.ociIndex);
  expect(Array.isArray(index.manifests)).toBe(true);
  return { res, index };
}

const subjectOf = (image: { digest: string; size: number; mediaType: string }): Descriptor => ({
  mediaType: image.mediaType,
  digest: image.digest,
  size: image.size,
});

describeTargets("referrers", (kind) => {
  const target = useTarget(kind);

  it("PUT /v2/<name>/manifests/<digest> with subject -> 201 with OCI-Subject: <subject digest>", async () => {
    const name = uniqueName();
    const image = await pushImage(target(), name, "v1");
    const ref = await pushReferrer(target(), name, subjectOf(image), { artifactType: SBOM });
    expect(ref.res.headers.get("oci-subject")).toBe(image.digest);
  });

  it("PUT /v2/<name>/manifests/<tag> without subject -> 201 without OCI-Subject", async () => {
    const name = uniqueName();
    const image = await pushImage(target(), name);
    const res = await target().fetch(`/v2/${name}/manifests/plain`, {
      method: "PUT",
      headers: { "Content-Type": MT.ociManifest },
      body: image.manifest,
    });
    await expectStatus(res, 201);
    expect(res.headers.get("oci-subject")).toBeNull();
  });

  it("PUT /v2/<name>/manifests/<digest> with a subject that does not exist -> 201 with OCI-Subject; listed as a referrer", async () => {
    const name = uniqueName();
    const missing: Descriptor = { mediaType: MT.ociManifest, digest: unknownDigest(), size: 123 };
    const ref = await pushReferrer(target(), name, missing, { artifactType: SIG });
    expect(ref.res.headers.get("oci-subject")).toBe(missing.digest);
    const { index } = await getReferrers(target(), name, missing.digest);
    expect(index.manifests.map((d) => d.digest)).toEqual([ref.digest]);
  });

  it("GET /v2/<name>/referrers/<digest> -> 200 OCI index with a full descriptor per referrer", async () => {
    const name = uniqueName();
    const image = await pushImage(target(), name, "v1");
    const sbom = await pushReferrer(target(), name, subjectOf(image), {
      artifactType: SBOM,
      annotations: { "org.opencontainers.image.created": "2024-01-01T00:00:00Z", "org.example.format": "json" },
    });
    const sig = await pushReferrer(target(), name, subjectOf(image), { artifactType: SIG });
    const { res, index } = await getReferrers(target(), name, image.digest);
    expect(res.headers.get("oci-filters-applied")).toBeNull();
    const byDigest = new Map(index.manifests.map((d) => [d.digest, d]));
    expect(byDigest.size).toBe(2);
    expect(byDigest.get(sbom.digest)).toEqual({
      mediaType: MT.ociManifest,
      digest: sbom.digest,
      size: sbom.size,
      artifactType: SBOM,
      annotations: { "org.opencontainers.image.created": "2024-01-01T00:00:00Z", "org.example.format": "json" },
    });
    expect(byDigest.get(sig.digest)).toMatchObject({ mediaType: MT.ociManifest, digest: sig.digest, size: sig.size, artifactType: SIG });
    expect(byDigest.get(sig.digest)!.annotations ?? {}).toEqual({});
  });

  it("GET /v2/<name>/referrers/<digest> of a manifest without artifactType -> descriptor artifactType is the config mediaType", async () => {
    const name = uniqueName();
    const image = await pushImage(target(), name);
    const ref = await pushReferrer(target(), name, subjectOf(image), { configMediaType: "application/vnd.example.config.v1+json" });
    const { index } = await getReferrers(target(), name, image.digest);
    expect(index.manifests).toHaveLength(1);
    expect(index.manifests[0]).toMatchObject({ digest: ref.digest, artifactType: "application/vnd.example.config.v1+json" });
  });

  it("GET /v2/<name>/referrers/<digest> lists an index with a subject; its artifactType is kept, or omitted when it has none", async () => {
    const name = uniqueName();
    const image = await pushImage(target(), name);
    const child = await pushImage(target(), name);
    const typed = indexManifest({
      artifactType: SBOM,
      manifests: [{ mediaType: MT.ociManifest, digest: child.digest, size: child.size }],
      subject: subjectOf(image),
    });
    const untyped = indexManifest({
      manifests: [{ mediaType: MT.ociManifest, digest: child.digest, size: child.size }],
      subject: subjectOf(image),
      annotations: { note: "untyped" },
    });
    const a = await pushManifest(target(), name, sha256(typed), typed, MT.ociIndex);
    expect(a.res.headers.get("oci-subject")).toBe(image.digest);
    const b = await pushManifest(target(), name, sha256(untyped), untyped, MT.ociIndex);
    const { index } = await getReferrers(target(), name, image.digest);
    const byDigest = new Map(index.manifests.map((d) => [d.digest, d]));
    expect(byDigest.get(a.digest)).toMatchObject({ mediaType: MT.ociIndex, artifactType: SBOM, size: utf8(typed).byteLength });
    expect(byDigest.get(b.digest)).toMatchObject({ mediaType: MT.ociIndex, annotations: { note: "untyped" } });
    expect(byDigest.get(b.digest)!.artifactType).toBeUndefined();
  });

  it("GET /v2/<name>/referrers/<digest>?artifactType= -> only matching referrers, OCI-Filters-Applied: artifactType", async () => {
    const name = uniqueName();
    const image = await pushImage(target(), name);
    const sbom = await pushReferrer(target(), name, subjectOf(image), { artifactType: SBOM });
    await pushReferrer(target(), name, subjectOf(image), { artifactType: SIG });
    const { res, index } = await getReferrers(target(), name, image.digest, `?artifactType=${encodeURIComponent(SBOM)}`);
    expect(res.headers.get("oci-filters-applied")).toBe("artifactType");
    expect(index.manifests.map((d) => d.digest)).toEqual([sbom.digest]);

    const none = await getReferrers(target(), name, image.digest, "?artifactType=application/vnd.nothing");
    expect(none.res.headers.get("oci-filters-applied")).toBe("artifactType");
    expect(none.index.manifests).toEqual([]);
  });

  it("GET /v2/<name>/referrers/<digest> with no referrers -> 200 with an empty manifests array", async () => {
    const name = uniqueName();
    const image = await pushImage(target(), name);
    const { index } = await getReferrers(target(), name, image.digest);
    expect(index.manifests).toEqual([]);
    const unknown = await getReferrers(target(), name, unknownDigest());
    expect(unknown.index.manifests).toEqual([]);
  });

  it("GET /v2/<name>/referrers/<digest> in an unknown repository -> 200 empty (the API must not 404)", async () => {
    const { index } = await getReferrers(target(), uniqueName(), unknownDigest());
    expect(index.manifests).toEqual([]);
  });

  it("GET /v2/<name>/referrers/<digest> lists only referrers pushed to <name>", async () => {
    const name = uniqueName();
    const other = uniqueName();
    const image = await pushImage(target(), name);
    await pushReferrer(target(), other, subjectOf(image), { artifactType: SBOM });
    expect((await getReferrers(target(), name, image.digest)).index.manifests).toEqual([]);
    expect((await getReferrers(target(), other, image.digest)).index.manifests).toHaveLength(1);
  });

  it("GET /v2/<name>/referrers/<digest> after DELETE of the referrer -> no longer listed", async () => {
    const name = uniqueName();
    const image = await pushImage(target(), name);
    const gone = await pushReferrer(target(), name, subjectOf(image), { artifactType: SBOM });
    const kept = await pushReferrer(target(), name, subjectOf(image), { artifactType: SIG });
    await expectStatus(await target().fetch(`/v2/${name}/manifests/${gone.digest}`, { method: "DELETE" }), 202);
    const { index } = await getReferrers(target(), name, image.digest);
    expect(index.manifests.map((d) => d.digest)).toEqual([kept.digest]);
  });

  it("GET /v2/<name>/referrers/<digest> when the referrer is pushed twice (by tag and digest) -> listed once", async () => {
    const name = uniqueName();
    const image = await pushImage(target(), name);
    const ref = await pushReferrer(target(), name, subjectOf(image), { artifactType: SBOM, tag: "sbom" });
    await pushManifest(target(), name, ref.digest, ref.body);
    const { index } = await getReferrers(target(), name, image.digest);
    expect(index.manifests.map((d) => d.digest)).toEqual([ref.digest]);
  });

  it("GET /v2/<name>/referrers/<malformed digest> -> 400 DIGEST_INVALID", async () => {
    const name = uniqueName();
    await pushImage(target(), name, "v1");
    for (const bad of ["sha256:xyz", "latest", "sha256:" + "0".repeat(10)]) {
      await expectError(await target().fetch(`/v2/${name}/referrers/${bad}`), 400, "DIGEST_INVALID");
    }
  });

  it("GET /v2/<name>/referrers/<digest>?n=2 -> pages in digest order with Link: <...?n=2&last=...>; rel=\"next\"; following it yields each referrer once", async () => {
    const name = uniqueName();
    const image = await pushImage(target(), name, "v1");
    const refs = [];
    for (let i = 0; i < 5; i++) refs.push(await pushReferrer(target(), name, subjectOf(image), { artifactType: i % 2 ? SIG : SBOM }));
    const all = refs.map((r) => r.digest).sort();
    const { index: whole, res: wholeRes } = await getReferrers(target(), name, image.digest);
    expect(whole.manifests.map((d) => d.digest)).toEqual(all);
    expect(wholeRes.headers.get("link")).toBeNull();
    const seen: string[] = [];
    let path: string | null = `/v2/${name}/referrers/${image.digest}?n=2`;
    const sizes: number[] = [];
    while (path) {
      const res: Response = await target().fetch(path);
      await expectStatus(res, 200);
      const index = (await res.json()) as Index;
      sizes.push(index.manifests.length);
      seen.push(...index.manifests.map((d) => d.digest));
      const link = nextLink(res);
      if (link) expect(new URL(link, "http://x").searchParams.get("last")).toBe(index.manifests.at(-1)!.digest);
      path = link;
      if (sizes.length > 5) throw new Error("no end");
    }
    expect(sizes).toEqual([2, 2, 1]);
    expect(seen).toEqual(all);
    // Filtered pages carry the filter on: only the two signatures, one per page.
    const sigs = refs.filter((_, i) => i % 2).map((r) => r.digest).sort();
    const first = await target().fetch(`/v2/${name}/referrers/${image.digest}?n=1&artifactType=${encodeURIComponent(SIG)}`);
    expect(((await first.json()) as Index).manifests.map((d) => d.digest)).toEqual([sigs[0]]);
    const second = await target().fetch(nextLink(first)!);
    expect(((await second.json()) as Index).manifests.map((d) => d.digest)).toEqual([sigs[1]]);
    expect(second.headers.get("link")).toBeNull();
    await expectError(await target().fetch(`/v2/${name}/referrers/${image.digest}?last=nope`), 400, "DIGEST_INVALID");
  });
});
