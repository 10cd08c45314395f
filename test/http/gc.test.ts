/**
 * Garbage collection (src/lifecycle) over every target, while the target serves: the CLI in
 * its own process on Node and Deno, the Cron handler in workerd, the library in-process.
 * Grace 0s throughout: what is unreferenced is collected at once.
 */
import { describe, expect, it } from "vitest";
import { describeTargets, useTarget } from "../targets/index.ts";
import { blobOnDisk, expectPullsWhole, pushLayers, removedCounts, statusOf } from "./gc-helpers.ts";
import { describeBytes, expectError, expectStatus, indexManifest, MT, pushEmptyConfig, pushManifest, randomBytes, sha256, uniqueName, imageManifest } from "./helpers.ts";

describeTargets("garbage collection", (kind, caps) => {
  describe("all stored manifests kept (no --delete-untagged)", () => {
    const target = useTarget(kind, { lifecycle: { grace: "0s" }, ...(caps.limits ? { uploadExpiryMs: 1000 } : {}) });

    it("DELETE one of two images sharing a base, gc -> its unique blobs 404 and leave the disk; the other pulls whole", async () => {
      const t = target();
      const name = uniqueName("gc");
      const base = randomBytes(3000);
      const a = await pushLayers(t, name, [base, randomBytes(1000)], "a");
      const b = await pushLayers(t, name, [base, randomBytes(1000)], "b");
      await expectStatus(await t.fetch(`/v2/${name}/manifests/${a.digest}`, { method: "DELETE" }), 202);
      const report = await t.lifecycle("gc");
      expect(removedCounts(report).blobs).toBeGreaterThanOrEqual(3); // a's layer, config and manifest
      for (const digest of [a.layers[1]!.digest, a.config.digest, a.digest]) {
        expect(await statusOf(t, `/v2/${name}/blobs/${digest}`), digest).toBe(404);
        expect(blobOnDisk(t, digest)).not.toBe(true);
      }
      expect(blobOnDisk(t, sha256(base))).not.toBe(false);
      await expectPullsWhole(t, name, b);
    });

    it("an untagged manifest stays (only --delete-untagged collects it), and so do its blobs", async () => {
      const t = target();
      const name = uniqueName("gc");
      const image = await pushLayers(t, name, [randomBytes(500)]);
      await t.lifecycle("gc");
      await expectPullsWhole(t, name, image);
    });

    it("a tag deleted, the manifest kept by digest -> gc keeps everything", async () => {
      const t = target();
      const name = uniqueName("gc");
      const image = await pushLayers(t, name, [randomBytes(500)], "gone");
      await expectStatus(await t.fetch(`/v2/${name}/manifests/gone`, { method: "DELETE" }), 202);
      await t.lifecycle("gc");
      await expectPullsWhole(t, name, image);
    });

    it("a blob pushed to two repositories and deleted in one -> gc keeps it for the other", async () => {
      const t = target();
      const [one, two] = [uniqueName("gc"), uniqueName("gc")];
      const shared = randomBytes(2000);
      const first = await pushLayers(t, one, [shared], "x");
      const second = await pushLayers(t, two, [shared], "x");
      await expectStatus(await t.fetch(`/v2/${one}/manifests/${first.digest}`, { method: "DELETE" }), 202);
      await t.lifecycle("gc");
      await expectPullsWhole(t, two, second);
    });

    it("every manifest of a repository deleted, gc -> the repository leaves GET /v2/_catalog and tags/list is 404 NAME_UNKNOWN", async () => {
      const t = target();
      const name = uniqueName("gcempty");
      const image = await pushLayers(t, name, [randomBytes(300)], "only");
      const listed = async () => ((await (await t.fetch("/v2/_catalog")).json()) as { repositories: string[] }).repositories.includes(name);
      expect(await listed()).toBe(true);
      await expectStatus(await t.fetch(`/v2/${name}/manifests/${image.digest}`, { method: "DELETE" }), 202);
      const report = await t.lifecycle("gc");
      expect(removedCounts(report).repositories).toBeGreaterThanOrEqual(1);
      expect(await listed()).toBe(false);
      await expectError(await t.fetch(`/v2/${name}/tags/list`), 404, "NAME_UNKNOWN");
    });

    it.skipIf(!caps.limits)("an upload session idle past the expiry -> gc purges it", async () => {
      const t = target();
      const name = uniqueName("gcupload");
      const start = await t.fetch(`/v2/${name}/blobs/uploads/`, { method: "POST" });
      await expectStatus(start, 202);
      const patch = await t.fetch(start.headers.get("location")!.replace(/^https?:\/\/[^/]+/, ""), { method: "PATCH", body: randomBytes(1000) });
      await expectStatus(patch, 202);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(removedCounts(await t.lifecycle("gc")).uploads).toBeGreaterThanOrEqual(1);
      expect(removedCounts(await t.lifecycle("gc")).uploads).toBe(0); // nothing left to purge
    });
  });

  describe("--delete-untagged", () => {
    const target = useTarget(kind, { lifecycle: { grace: "0s", deleteUntagged: true } });

    it("an untagged image is collected: manifest and unique layers 404; the tagged one pulls whole", async () => {
      const t = target();
      const name = uniqueName("gcu");
      const base = randomBytes(2500);
      const tagged = await pushLayers(t, name, [base, randomBytes(700)], "keep");
      const untagged = await pushLayers(t, name, [base, randomBytes(700)]);
      const report = await t.lifecycle("gc");
      expect(report).toContain(`manifest ${name}@${untagged.digest}`);
      expect(report).not.toContain(`manifest ${name}@${tagged.digest}`);
      expect(await statusOf(t, `/v2/${name}/manifests/${untagged.digest}`)).toBe(404);
      expect(await statusOf(t, `/v2/${name}/blobs/${untagged.layers[1]!.digest}`)).toBe(404);
      await expectPullsWhole(t, name, tagged);
    });

    it("an index is tagged, its children are not -> children kept and pull whole", async () => {
      const t = target();
      const name = uniqueName("gcu");
      const amd = await pushLayers(t, name, [randomBytes(400)]);
      const arm = await pushLayers(t, name, [randomBytes(400)]);
      const index = indexManifest({ manifests: [amd, arm].map((image) => ({ ...describeBytes(MT.ociManifest, image.manifest), platform: { architecture: "amd64", os: "linux" } })) });
      await pushManifest(t, name, "multi", index, MT.ociIndex);
      await t.lifecycle("gc");
      await expectPullsWhole(t, name, amd);
      await expectPullsWhole(t, name, arm);
      await expectStatus(await t.fetch(`/v2/${name}/manifests/multi`, { headers: { Accept: MT.ociIndex } }), 200);
    });

    it("a referrer of a tagged image is kept while its subject lives, and collected with it", async () => {
      const t = target();
      const name = uniqueName("gcu");
      const image = await pushLayers(t, name, [randomBytes(400)], "signed");
      const config = await pushEmptyConfig(t, name);
      const referrer = imageManifest({ config, layers: [], artifactType: "application/vnd.example.sig", subject: describeBytes(MT.ociManifest, image.manifest) });
      const { digest: referrerDigest } = await pushManifest(t, name, sha256(referrer), referrer);
      await t.lifecycle("gc");
      await expectStatus(await t.fetch(`/v2/${name}/manifests/${referrerDigest}`), 200);
      const listing = (await (await t.fetch(`/v2/${name}/referrers/${image.digest}`)).json()) as { manifests: { digest: string }[] };
      expect(listing.manifests.map((m) => m.digest)).toEqual([referrerDigest]);

      await expectStatus(await t.fetch(`/v2/${name}/manifests/signed`, { method: "DELETE" }), 202);
      await t.lifecycle("gc");
      expect(await statusOf(t, `/v2/${name}/manifests/${image.digest}`)).toBe(404);
      expect(await statusOf(t, `/v2/${name}/manifests/${referrerDigest}`)).toBe(404);
    });
  });

  describe("retention rules from the config file", () => {
    const target = useTarget(kind, { lifecycle: { grace: "0s", retention: [{ repositories: "kept/**", keepLast: 2, keepTags: ["stable"] }] } });

    it("keepLast 2 + keepTags [stable]: older tags deleted, their manifests collected; a dry run shows it first", async () => {
      const t = target();
      const name = uniqueName("kept/app");
      const images = [];
      for (const tag of ["stable", "t1", "t2", "t3", "t4"]) {
        images.push(await pushLayers(t, name, [randomBytes(300)], tag));
        await new Promise((resolve) => setTimeout(resolve, 30)); // distinct push times
      }
      const tags = async () => ((await (await t.fetch(`/v2/${name}/tags/list`)).json()) as { tags: string[] }).tags;
      if (caps.lifecycleCli) {
        const preview = await t.lifecycle("gc", ["--dry-run"]);
        expect(preview).toContain(`tag ${name}:t1`);
        expect(preview).toContain(`tag ${name}:t2`);
        expect(preview).not.toContain(`tag ${name}:t3`);
        expect(await tags()).toEqual(["stable", "t1", "t2", "t3", "t4"]);
      }
      await t.lifecycle("gc");
      expect(await tags()).toEqual(["stable", "t3", "t4"]);
      expect(await statusOf(t, `/v2/${name}/manifests/${images[1]!.digest}`)).toBe(404);
      expect(await statusOf(t, `/v2/${name}/blobs/${images[1]!.layers[0]!.digest}`)).toBe(404);
      for (const i of [0, 3, 4]) await expectPullsWhole(t, name, images[i]!);
    });

    it("a repository no rule matches keeps every tag", async () => {
      const t = target();
      const name = uniqueName("other");
      for (const tag of ["a", "b", "c"]) await pushLayers(t, name, [randomBytes(200)], tag);
      await t.lifecycle("gc");
      expect(((await (await t.fetch(`/v2/${name}/tags/list`)).json()) as { tags: string[] }).tags).toEqual(["a", "b", "c"]);
    });
  });

  describe("--no-delete", () => {
    const target = useTarget(kind, { lifecycle: { noDelete: true } });

    it("DELETE manifest, tag and blob -> 405 UNSUPPORTED; nothing removed", async () => {
      const t = target();
      const name = uniqueName("nodelete");
      const image = await pushLayers(t, name, [randomBytes(200)], "v1");
      await expectError(await t.fetch(`/v2/${name}/manifests/${image.digest}`, { method: "DELETE" }), 405, "UNSUPPORTED");
      await expectError(await t.fetch(`/v2/${name}/manifests/v1`, { method: "DELETE" }), 405, "UNSUPPORTED");
      await expectError(await t.fetch(`/v2/${name}/blobs/${image.layers[0]!.digest}`, { method: "DELETE" }), 405, "UNSUPPORTED");
      await expectPullsWhole(t, name, image);
    });

    it.skipIf(!caps.lifecycleCli)("berth du: bytes per repository, a shared layer counted once in the total", async () => {
      const t = target();
      const [one, two] = [uniqueName("du"), uniqueName("du")];
      const shared = randomBytes(10 * 1024);
      const first = await pushLayers(t, one, [shared, randomBytes(1024)], "x");
      await pushLayers(t, two, [shared], "x");
      const usage = await t.lifecycle("du");
      const row = (name: string) => usage.split("\n").find((line) => line.startsWith(name))?.trim().split(/\s{2,}/);
      const firstBytes = [...first.blobs.values()].reduce((n, b) => n + b.byteLength, 0) + first.manifest.length;
      expect(row(one)?.[1]).toBe(`${(firstBytes / 1024).toFixed(1)} KiB`);
      expect(usage).toMatch(/shared by several repositories \(counted once\): 10\.0 KiB/);
      expect(usage).toMatch(/total: .* in \d+ blobs \(\d+ bytes\)/);
    });
  });

  // In-process and Workers have no server command line: the schedule is the shims' (Workers: Cron, covered above).
  describe.skipIf(kind === "in-process" || kind === "worker")("serve --gc-interval 1s --grace 0s", () => {
    const target = useTarget(kind, { lifecycle: { interval: "1s", grace: "0s" } });

    it("a deleted image's unique blobs go by themselves, while the server keeps serving the rest", async () => {
      const t = target();
      const name = uniqueName("gcinterval");
      // Zero grace on a schedule: a run may take a push's blobs before its manifest names them (refused, pushed again).
      const keep = await pushLayers(t, name, [randomBytes(800)], "keep", { attempts: 5 });
      const gone = await pushLayers(t, name, [randomBytes(800)], "gone", { attempts: 5 });
      await expectStatus(await t.fetch(`/v2/${name}/manifests/${gone.digest}`, { method: "DELETE" }), 202);
      const layer = `/v2/${name}/blobs/${gone.layers[0]!.digest}`;
      const deadline = Date.now() + 20_000;
      while ((await statusOf(t, layer)) !== 404 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250));
      expect(await statusOf(t, layer)).toBe(404);
      await expectPullsWhole(t, name, keep);
    });
  });
}, ["gc"]);
