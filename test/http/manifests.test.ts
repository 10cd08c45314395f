/**
 * Manifests: end-3 (GET/HEAD), end-7 (PUT), end-9 (DELETE). Docker schema 2 manifests and
 * lists, OCI manifests and indexes, artifacts, manifests without mediaType; validation
 * (MANIFEST_INVALID, MANIFEST_BLOB_UNKNOWN, DIGEST_INVALID, TAG_INVALID, 413).
 */
import { expect, it } from "vitest";
import { describeTargets, useTarget } from "../targets/index.ts";
import {
  bodyBytes,
  describeBytes,
  EMPTY_DIGEST,
  expectError,
  expectStatus,
  imageManifest,
  indexManifest,
  locationOf,
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

const MiB = 1024 * 1024;

/** Pad an image manifest with an annotation until it is exactly `size` bytes. */
function manifestOfSize(config: Descriptor, layers: Descriptor[], size: number): string {
  const base = JSON.stringify({ schemaVersion: 2, mediaType: MT.ociManifest, config, layers, annotations: { pad: "" } });
  const pad = size - utf8(base).byteLength;
  if (pad < 0) throw new Error("size too small");
  return base.replace('"pad":""', `"pad":"${"x".repeat(pad)}"`);
}

describeTargets("manifests", (kind) => {
  const target = useTarget(kind);

  async function expectManifest(name: string, reference: string, body: string, mediaType: string) {
    const digest = sha256(body);
    const get = await target().fetch(`/v2/${name}/manifests/${reference}`, { headers: { Accept: mediaType } });
    await expectStatus(get, 200);
    expect(get.headers.get("content-type")).toBe(mediaType);
    expect(get.headers.get("content-length")).toBe(String(utf8(body).byteLength));
    expect(get.headers.get("docker-content-digest")).toBe(digest);
    expect(new TextDecoder().decode(await bodyBytes(get))).toBe(body);

    const head = await target().fetch(`/v2/${name}/manifests/${reference}`, { method: "HEAD", headers: { Accept: mediaType } });
    await expectStatus(head, 200);
    expect(head.headers.get("content-type")).toBe(mediaType);
    expect(head.headers.get("content-length")).toBe(String(utf8(body).byteLength));
    expect(head.headers.get("docker-content-digest")).toBe(digest);
    expect((await bodyBytes(head)).byteLength).toBe(0);
  }

  it("PUT /v2/<name>/manifests/<tag> (OCI) -> 201 with Location and Docker-Content-Digest; GET/HEAD by tag and digest", async () => {
    const name = uniqueName();
    const image = await pushImage(target(), name, "v1");
    const res = await target().fetch(`/v2/${name}/manifests/v1`, {
      method: "PUT",
      headers: { "Content-Type": MT.ociManifest },
      body: image.manifest,
    });
    await expectStatus(res, 201);
    expect(res.headers.get("docker-content-digest")).toBe(image.digest);
    expect(locationOf(res)).toMatch(new RegExp(`^/v2/${name}/manifests/(v1|${image.digest})$`));
    await expectManifest(name, "v1", image.manifest, MT.ociManifest);
    await expectManifest(name, image.digest, image.manifest, MT.ociManifest);
  });

  it("PUT /v2/<name>/manifests/<tag> (Docker schema 2) -> 201; GET returns it with its Content-Type", async () => {
    const name = uniqueName();
    const image = await pushImage(target(), name, "docker", { docker: true, layerCount: 2 });
    await expectManifest(name, "docker", image.manifest, MT.dockerManifest);
    await expectManifest(name, image.digest, image.manifest, MT.dockerManifest);
  });

  it("PUT /v2/<name>/manifests/<digest> -> 201, not tagged", async () => {
    const name = uniqueName();
    const image = await pushImage(target(), name, "keep");
    const config = describeBytes(MT.ociConfig, "{}");
    await pushBlob(target(), name, "{}");
    const body = imageManifest({ config, layers: image.layers });
    const { digest, res } = await pushManifest(target(), name, sha256(body), body);
    expect(res.headers.get("docker-content-digest")).toBe(digest);
    expect(locationOf(res)).toBe(`/v2/${name}/manifests/${digest}`);
    await expectManifest(name, digest, body, MT.ociManifest);
    const tags = await (await target().fetch(`/v2/${name}/tags/list`)).json();
    expect(tags.tags).toEqual(["keep"]);
  });

  it("PUT /v2/<name>/manifests/<digest> whose bytes do not match the digest -> 400 DIGEST_INVALID, nothing stored", async () => {
    const name = uniqueName();
    const image = await pushImage(target(), name);
    const wrong = unknownDigest();
    const res = await target().fetch(`/v2/${name}/manifests/${wrong}`, {
      method: "PUT",
      headers: { "Content-Type": MT.ociManifest },
      body: image.manifest.replace(/\n$/, " \n"),
    });
    await expectError(res, 400, "DIGEST_INVALID");
    await expectError(await target().fetch(`/v2/${name}/manifests/${wrong}`), 404, "MANIFEST_UNKNOWN");
  });

  it("PUT /v2/<name>/manifests/<tag> keeps the exact bytes (whitespace, key order, unknown fields)", async () => {
    const name = uniqueName();
    const image = await pushImage(target(), name);
    const odd = `{"zeta":1,\n\t"layers": ${JSON.stringify(image.layers)},  "config":${JSON.stringify(image.config)},"schemaVersion":2,"mediaType":"${MT.ociManifest}"}\r\n\n`;
    await pushManifest(target(), name, "odd", odd);
    await expectManifest(name, "odd", odd, MT.ociManifest);
  });

  it("PUT /v2/<name>/manifests/<tag> again with other content moves the tag; the old digest stays", async () => {
    const name = uniqueName();
    const first = await pushImage(target(), name, "moving");
    const second = await pushImage(target(), name, "moving");
    expect(second.digest).not.toBe(first.digest);
    const res = await target().fetch(`/v2/${name}/manifests/moving`, { method: "HEAD" });
    expect(res.headers.get("docker-content-digest")).toBe(second.digest);
    await expectManifest(name, first.digest, first.manifest, MT.ociManifest);
  });

  it("PUT /v2/<name>/manifests/<tag> OCI index and Docker manifest list of pushed children -> 201", async () => {
    const name = uniqueName();
    const amd = await pushImage(target(), name, undefined, { docker: true });
    const arm = await pushImage(target(), name, undefined, { docker: true });
    const list = indexManifest({
      mediaType: MT.dockerList,
      manifests: [
        { mediaType: MT.dockerManifest, digest: amd.digest, size: amd.size, platform: { architecture: "amd64", os: "linux" } },
        { mediaType: MT.dockerManifest, digest: arm.digest, size: arm.size, platform: { architecture: "arm64", os: "linux" } },
      ],
    });
    await pushManifest(target(), name, "list", list, MT.dockerList);
    await expectManifest(name, "list", list, MT.dockerList);

    const oci1 = await pushImage(target(), name);
    const oci2 = await pushImage(target(), name);
    const index = indexManifest({
      manifests: [
        { mediaType: MT.ociManifest, digest: oci1.digest, size: oci1.size, platform: { architecture: "amd64", os: "linux" } },
        { mediaType: MT.ociManifest, digest: oci2.digest, size: oci2.size, platform: { architecture: "arm64", os: "linux" } },
      ],
    });
    await pushManifest(target(), name, "index", index, MT.ociIndex);
    await expectManifest(name, "index", index, MT.ociIndex);
    await expectManifest(name, sha256(index), index, MT.ociIndex);
  });

  it("PUT /v2/<name>/manifests/<tag> index of indexes -> 201", async () => {
    const name = uniqueName();
    const image = await pushImage(target(), name);
    const inner = indexManifest({ manifests: [{ mediaType: MT.ociManifest, digest: image.digest, size: image.size }] });
    const { digest: innerDigest } = await pushManifest(target(), name, sha256(inner), inner, MT.ociIndex);
    const outer = indexManifest({ manifests: [{ mediaType: MT.ociIndex, digest: innerDigest, size: utf8(inner).byteLength }] });
    await pushManifest(target(), name, "nested", outer, MT.ociIndex);
    await expectManifest(name, "nested", outer, MT.ociIndex);
  });

  it("PUT /v2/<name>/manifests/<tag> artifact (artifactType, empty config) -> 201", async () => {
    const name = uniqueName();
    const config = await pushEmptyConfig(target(), name);
    const payload = utf8('{"sbom":true}');
    await pushBlob(target(), name, payload);
    const body = imageManifest({
      artifactType: "application/vnd.example.sbom.v1",
      config,
      layers: [describeBytes("application/vnd.example.sbom.v1+json", payload)],
    });
    await pushManifest(target(), name, "sbom", body);
    await expectManifest(name, "sbom", body, MT.ociManifest);
  });

  it("PUT /v2/<name>/manifests/<tag> without a top-level mediaType -> 201; GET answers the request's Content-Type", async () => {
    const name = uniqueName();
    const image = await pushImage(target(), name);
    const body = imageManifest({ mediaType: null, config: image.config, layers: image.layers });
    await pushManifest(target(), name, "bare", body, MT.ociManifest);
    await expectManifest(name, "bare", body, MT.ociManifest);

    const index = indexManifest({ mediaType: null, manifests: [{ mediaType: MT.ociManifest, digest: image.digest, size: image.size }] });
    await pushManifest(target(), name, "bare-index", index, MT.ociIndex);
    await expectManifest(name, "bare-index", index, MT.ociIndex);
  });

  it("PUT /v2/<name>/manifests/<tag> with Content-Type parameters -> 201; they are not part of the media type", async () => {
    const name = uniqueName();
    const image = await pushImage(target(), name);
    await pushManifest(target(), name, "params", image.manifest, `${MT.ociManifest}; charset=utf-8`);
    const head = await target().fetch(`/v2/${name}/manifests/params`, { method: "HEAD" });
    expect(head.headers.get("content-type")).toBe(MT.ociManifest);
  });

  for (const [label, body] of [
    ["not JSON", "{not json"],
    ["a JSON array", "[]"],
    ["JSON null", "null"],
    ["empty", ""],
    ["no config", JSON.stringify({ schemaVersion: 2, mediaType: MT.ociManifest, layers: [] })],
    ["layers not an array", JSON.stringify({ schemaVersion: 2, mediaType: MT.ociManifest, config: { mediaType: MT.ociConfig, digest: EMPTY_DIGEST, size: 2 }, layers: {} })],
    ["config without digest", JSON.stringify({ schemaVersion: 2, mediaType: MT.ociManifest, config: { mediaType: MT.ociConfig, size: 2 }, layers: [] })],
    ["index without manifests", JSON.stringify({ schemaVersion: 2, mediaType: MT.ociIndex })],
    ["schemaVersion 1", JSON.stringify({ schemaVersion: 1, name: "x", tag: "y", fsLayers: [] })],
  ] as const) {
    it(`PUT /v2/<name>/manifests/<tag> ${label} -> 400 MANIFEST_INVALID`, async () => {
      const name = uniqueName();
      await pushEmptyConfig(target(), name);
      const mediaType = label.startsWith("index") ? MT.ociIndex : MT.ociManifest;
      const res = await target().fetch(`/v2/${name}/manifests/bad`, {
        method: "PUT",
        headers: { "Content-Type": mediaType },
        body,
      });
      await expectError(res, 400, "MANIFEST_INVALID");
      await expectError(await target().fetch(`/v2/${name}/manifests/bad`), 404, "MANIFEST_UNKNOWN");
    });
  }

  // Image-spec validation: each case names the field its MANIFEST_INVALID message must name.
  const config = { mediaType: MT.ociConfig, digest: EMPTY_DIGEST, size: 2 };
  const layer = { mediaType: MT.ociLayer, digest: EMPTY_DIGEST, size: 2 };
  const oci = (extra: Record<string, unknown>) => JSON.stringify({ schemaVersion: 2, mediaType: MT.ociManifest, config, layers: [], ...extra });
  const deep = `${'{"d":'.repeat(10_000)}"bottom"${"}".repeat(10_000)}`; // too deep for JSON.stringify
  const INVALID: [label: string, contentType: string, body: string, names: string][] = [
    ["Content-Type text/plain", "text/plain", oci({}), "Content-Type text/plain"],
    ["Content-Type application/json", "application/json", oci({}), "Content-Type application/json"],
    ["Docker Content-Type, OCI mediaType in the body", MT.dockerManifest, oci({}), `mediaType ${MT.ociManifest} does not match Content-Type ${MT.dockerManifest}`],
    ["OCI index Content-Type, image manifest mediaType", MT.ociIndex, oci({}), "does not match Content-Type"],
    ["mediaType not a string", MT.ociManifest, oci({ mediaType: 7 }), "mediaType must be a string"],
    ["annotation value a number", MT.ociManifest, oci({ annotations: { a: "ok", n: 1 } }), 'annotations["n"] must be a string'],
    ["annotation value a 10,000-deep object", MT.ociManifest, oci({ annotations: { deep: "DEEP" } }).replace('"DEEP"', deep), 'annotations["deep"] must be a string'],
    ["annotations an array", MT.ociManifest, oci({ annotations: ["a"] }), "annotations must be an object of strings"],
    ["layer annotation value null", MT.ociManifest, oci({ layers: [{ ...layer, annotations: { k: null } }] }), 'layers[0].annotations["k"] must be a string'],
    ["config annotation value true", MT.ociManifest, oci({ config: { ...config, annotations: { k: true } } }), 'config.annotations["k"] must be a string'],
    ["config without mediaType", MT.ociManifest, oci({ config: { digest: EMPTY_DIGEST, size: 2 } }), "config.mediaType must be a string"],
    ["layer without digest", MT.ociManifest, oci({ layers: [{ mediaType: MT.ociLayer, size: 2 }] }), "layers[0].digest must be a string"],
    ["layer with a malformed digest", MT.ociManifest, oci({ layers: [{ ...layer, digest: "sha256:nothex" }] }), "layers[0].digest is not a valid digest"],
    ["layer with size -1", MT.ociManifest, oci({ layers: [{ ...layer, size: -1 }] }), "layers[0].size must be a non-negative integer"],
    ["layer with size 1.5", MT.ociManifest, oci({ layers: [{ ...layer, size: 1.5 }] }), "layers[0].size must be a non-negative integer"],
    ["layer with size \"2\"", MT.ociManifest, oci({ layers: [{ ...layer, size: "2" }] }), "layers[0].size must be a non-negative integer"],
    ["layer urls not strings", MT.ociManifest, oci({ layers: [{ ...layer, urls: [1] }] }), "layers[0].urls must be an array of strings"],
    ["layer not an object", MT.ociManifest, oci({ layers: ["x"] }), "layers[0] must be a descriptor object"],
    ["artifactType a number", MT.ociManifest, oci({ artifactType: 1 }), "artifactType must be a string"],
    ["subject without size", MT.ociManifest, oci({ subject: { mediaType: MT.ociManifest, digest: EMPTY_DIGEST } }), "subject.size must be a non-negative integer"],
    ["index child annotation a number", MT.ociIndex, JSON.stringify({ schemaVersion: 2, mediaType: MT.ociIndex, manifests: [{ mediaType: MT.ociManifest, digest: EMPTY_DIGEST, size: 2, annotations: { k: 1 } }] }), 'manifests[0].annotations["k"] must be a string'],
    ["index annotation a list", MT.ociIndex, JSON.stringify({ schemaVersion: 2, mediaType: MT.ociIndex, manifests: [], annotations: { k: ["v"] } }), 'annotations["k"] must be a string'],
  ];
  for (const [label, contentType, body, names] of INVALID) {
    it(`PUT /v2/<name>/manifests/<tag> ${label} -> 400 MANIFEST_INVALID naming the field, nothing stored`, async () => {
      const name = uniqueName();
      await pushEmptyConfig(target(), name);
      const res = await target().fetch(`/v2/${name}/manifests/bad`, { method: "PUT", headers: { "Content-Type": contentType }, body });
      const [error] = await expectError(res, 400, "MANIFEST_INVALID");
      expect(error!.message).toContain(names);
      await expectError(await target().fetch(`/v2/${name}/manifests/bad`), 404, "MANIFEST_UNKNOWN");
      await expectError(await target().fetch(`/v2/${name}/manifests/${sha256(body)}`), 404, "MANIFEST_UNKNOWN");
    });
  }

  it("PUT /v2/<name>/manifests/<tag> without Content-Type: the body's mediaType decides; with neither -> 400 MANIFEST_INVALID", async () => {
    const name = uniqueName();
    await pushEmptyConfig(target(), name);
    const typed = utf8(oci({})); // bytes: fetch adds no Content-Type (a string would be text/plain)
    const res = await target().fetch(`/v2/${name}/manifests/typed`, { method: "PUT", body: typed });
    await expectStatus(res, 201);
    const head = await target().fetch(`/v2/${name}/manifests/typed`, { method: "HEAD" });
    expect(head.headers.get("content-type")).toBe(MT.ociManifest);
    const untyped = utf8(JSON.stringify({ schemaVersion: 2, config, layers: [] }));
    const [error] = await expectError(await target().fetch(`/v2/${name}/manifests/untyped`, { method: "PUT", body: untyped }), 400, "MANIFEST_INVALID");
    expect(error!.message).toBe("no Content-Type and no mediaType");
  });

  it("PUT /v2/<name>/manifests/<tag> with string annotations everywhere and a matching mediaType -> 201", async () => {
    const name = uniqueName();
    await pushEmptyConfig(target(), name);
    const body = oci({ annotations: { "org.opencontainers.image.title": "x", empty: "" }, config: { ...config, annotations: { k: "v" } } });
    await pushManifest(target(), name, "annotated", body, MT.ociManifest);
    await expectManifest(name, "annotated", body, MT.ociManifest);
  });

  it("PUT /v2/<name>/manifests/<tag> referencing a missing layer -> 400 MANIFEST_BLOB_UNKNOWN", async () => {
    const name = uniqueName();
    const config = await pushEmptyConfig(target(), name);
    const body = imageManifest({ config, layers: [describeBytes(MT.ociLayer, randomBytes(10))] });
    const res = await target().fetch(`/v2/${name}/manifests/v1`, { method: "PUT", headers: { "Content-Type": MT.ociManifest }, body });
    await expectError(res, 400, "MANIFEST_BLOB_UNKNOWN");
    await expectError(await target().fetch(`/v2/${name}/manifests/v1`), 404, "MANIFEST_UNKNOWN");
  });

  it("PUT /v2/<name>/manifests/<tag> referencing a missing config -> 400 MANIFEST_BLOB_UNKNOWN", async () => {
    const name = uniqueName();
    const layer = randomBytes(10);
    await pushBlob(target(), name, layer);
    const body = imageManifest({ config: describeBytes(MT.ociConfig, "{\"missing\":1}"), layers: [describeBytes(MT.ociLayer, layer)] });
    const res = await target().fetch(`/v2/${name}/manifests/v1`, { method: "PUT", headers: { "Content-Type": MT.ociManifest }, body });
    await expectError(res, 400, "MANIFEST_BLOB_UNKNOWN");
  });

  it("PUT /v2/<name>/manifests/<tag> referencing a layer that exists only in another repository -> 400 MANIFEST_BLOB_UNKNOWN", async () => {
    const name = uniqueName();
    const other = uniqueName();
    const layer = randomBytes(10);
    await pushBlob(target(), other, layer);
    const config = await pushEmptyConfig(target(), name);
    const body = imageManifest({ config, layers: [describeBytes(MT.ociLayer, layer)] });
    const res = await target().fetch(`/v2/${name}/manifests/v1`, { method: "PUT", headers: { "Content-Type": MT.ociManifest }, body });
    await expectError(res, 400, "MANIFEST_BLOB_UNKNOWN");
  });

  it("PUT /v2/<name>/manifests/<tag> index with a child manifest missing from the repository -> 400 MANIFEST_BLOB_UNKNOWN", async () => {
    // distribution-spec code-5: "manifest references a manifest or blob unknown to registry".
    const name = uniqueName();
    const image = await pushImage(target(), name);
    const body = indexManifest({
      manifests: [
        { mediaType: MT.ociManifest, digest: image.digest, size: image.size },
        { mediaType: MT.ociManifest, digest: unknownDigest(), size: 100 },
      ],
    });
    const res = await target().fetch(`/v2/${name}/manifests/idx`, { method: "PUT", headers: { "Content-Type": MT.ociIndex }, body });
    await expectError(res, 400, "MANIFEST_BLOB_UNKNOWN");
  });

  it("PUT /v2/<name>/manifests/<tag> of exactly 4 MiB -> 201", async () => {
    const name = uniqueName();
    const image = await pushImage(target(), name);
    const body = manifestOfSize(image.config, image.layers, 4 * MiB);
    expect(utf8(body).byteLength).toBe(4 * MiB);
    await pushManifest(target(), name, "big", body);
    const head = await target().fetch(`/v2/${name}/manifests/big`, { method: "HEAD" });
    expect(head.headers.get("content-length")).toBe(String(4 * MiB));
  });

  it("PUT /v2/<name>/manifests/<tag> over 4 MiB -> 413 MANIFEST_INVALID, nothing stored", async () => {
    const name = uniqueName();
    const image = await pushImage(target(), name);
    const body = manifestOfSize(image.config, image.layers, 4 * MiB + 1);
    const res = await target().fetch(`/v2/${name}/manifests/huge`, { method: "PUT", headers: { "Content-Type": MT.ociManifest }, body });
    const [error] = await expectError(res, 413, "MANIFEST_INVALID");
    expect(error!.message).toBe(`manifest larger than ${4 * MiB} bytes`);
    await expectError(await target().fetch(`/v2/${name}/manifests/huge`), 404, "MANIFEST_UNKNOWN");
  });

  it("GET /v2/<name>/manifests/<unknown tag or digest> -> 404 MANIFEST_UNKNOWN; HEAD -> 404", async () => {
    const name = uniqueName();
    await pushImage(target(), name, "exists");
    await expectError(await target().fetch(`/v2/${name}/manifests/nope`), 404, "MANIFEST_UNKNOWN");
    await expectError(await target().fetch(`/v2/${name}/manifests/${unknownDigest()}`), 404, "MANIFEST_UNKNOWN");
    const head = await target().fetch(`/v2/${name}/manifests/nope`, { method: "HEAD" });
    expect(head.status).toBe(404);
    expect((await bodyBytes(head)).byteLength).toBe(0);
  });

  it("GET /v2/<name>/manifests/<tag> in an unknown repository -> 404 MANIFEST_UNKNOWN", async () => {
    await expectError(await target().fetch(`/v2/${uniqueName()}/manifests/latest`), 404, "MANIFEST_UNKNOWN");
  });

  it("GET /v2/<name>/manifests/<digest> of a manifest pushed to another repository -> 404 MANIFEST_UNKNOWN", async () => {
    const name = uniqueName();
    const other = uniqueName();
    const image = await pushImage(target(), name, "v1");
    await pushImage(target(), other, "v1");
    await expectError(await target().fetch(`/v2/${other}/manifests/${image.digest}`), 404, "MANIFEST_UNKNOWN");
  });

  it("DELETE /v2/<name>/manifests/<digest> -> 202; the digest and every tag on it are gone", async () => {
    const name = uniqueName();
    const image = await pushImage(target(), name, "a");
    await pushManifest(target(), name, "b", image.manifest);
    const keep = await pushImage(target(), name, "c");
    const res = await target().fetch(`/v2/${name}/manifests/${image.digest}`, { method: "DELETE" });
    await expectStatus(res, 202);
    await res.body?.cancel();
    await expectError(await target().fetch(`/v2/${name}/manifests/${image.digest}`), 404, "MANIFEST_UNKNOWN");
    await expectError(await target().fetch(`/v2/${name}/manifests/a`), 404, "MANIFEST_UNKNOWN");
    await expectError(await target().fetch(`/v2/${name}/manifests/b`), 404, "MANIFEST_UNKNOWN");
    await expectManifest(name, "c", keep.manifest, MT.ociManifest);
    const tags = await (await target().fetch(`/v2/${name}/tags/list`)).json();
    expect(tags.tags).toEqual(["c"]);
  });

  it("DELETE /v2/<name>/manifests/<tag> -> 202; only the tag goes, the manifest stays by digest", async () => {
    const name = uniqueName();
    const image = await pushImage(target(), name, "gone");
    await pushManifest(target(), name, "stays", image.manifest);
    const res = await target().fetch(`/v2/${name}/manifests/gone`, { method: "DELETE" });
    await expectStatus(res, 202);
    await res.body?.cancel();
    await expectError(await target().fetch(`/v2/${name}/manifests/gone`), 404, "MANIFEST_UNKNOWN");
    await expectManifest(name, image.digest, image.manifest, MT.ociManifest);
    await expectManifest(name, "stays", image.manifest, MT.ociManifest);
  });

  it("DELETE /v2/<name>/manifests/<unknown digest or tag> -> 404 MANIFEST_UNKNOWN", async () => {
    const name = uniqueName();
    await pushImage(target(), name, "v1");
    await expectError(await target().fetch(`/v2/${name}/manifests/${unknownDigest()}`, { method: "DELETE" }), 404, "MANIFEST_UNKNOWN");
    await expectError(await target().fetch(`/v2/${name}/manifests/nope`, { method: "DELETE" }), 404, "MANIFEST_UNKNOWN");
  });

  it("PUT /v2/<name>/manifests/<tag> after DELETE of the same digest -> 201, readable again", async () => {
    const name = uniqueName();
    const image = await pushImage(target(), name, "v1");
    await expectStatus(await target().fetch(`/v2/${name}/manifests/${image.digest}`, { method: "DELETE" }), 202);
    await pushManifest(target(), name, "v1", image.manifest);
    await expectManifest(name, "v1", image.manifest, MT.ociManifest);
  });
});

describeTargets("manifest size limit", (kind) => {
  const target = useTarget(kind, { maxManifestBytes: 2000 });

  it("PUT /v2/<name>/manifests/<tag> over maxManifestBytes -> 413 MANIFEST_INVALID; at the limit -> 201", async () => {
    const name = uniqueName();
    const image = await pushImage(target(), name);
    await pushManifest(target(), name, "fits", manifestOfSize(image.config, image.layers, 2000));
    const res = await target().fetch(`/v2/${name}/manifests/over`, {
      method: "PUT",
      headers: { "Content-Type": MT.ociManifest },
      body: manifestOfSize(image.config, image.layers, 2001),
    });
    await expectError(res, 413, "MANIFEST_INVALID");
  });
}, ["limits"]);
