// skopeo against a live registry: OCI layout round trip, inspect, list-tags,
// delete by digest, copy --all of an index across repositories (cross-repo
// mounts), and an artifact with artifactType + subject found via referrers.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { skipWithout, timed } from './lib/clients.ts';
import { containersEnv, type ContainersEnv } from './lib/containers-env.ts';
import { expectSameImage, layoutBlob, layoutRef } from './lib/layout-compare.ts';
import { MT, OciLayout, randomImageLayout } from './lib/oci-layout.ts';
import { uniqueRepo } from './lib/registry-api.ts';
import { useRegistry } from './lib/suite.ts';
import { tempDir } from './lib/tmp.ts';
import { lacks } from './servers.ts';

const SUITE = 'skopeo';
const T = 300_000;

describe.skipIf(skipWithout('skopeo'))('skopeo', () => {
  const ctx = useRegistry(SUITE, ['skopeo']);
  let c: ContainersEnv;
  const env = () => (c ??= containersEnv('skopeo', [ctx.server.host]));
  const ref = (repo: string, tag: string) => `docker://${ctx.server.host}/${repo}${tag.startsWith('sha256:') ? '@' : ':'}${tag}`;
  const push = (src: string, repo: string, tag: string, ...flags: string[]) =>
    env().skopeo(['copy', '--dest-tls-verify=false', ...flags, src, ref(repo, tag)]);

  async function pushRandom(repo: string, tag = 'v1', layers = 2) {
    const img = await randomImageLayout(tempDir('layout'), tag, layers);
    await push(`oci:${img.layout.dir}:${tag}`, repo, tag);
    return img;
  }

  it('skopeo copy oci layout -> registry -> oci layout is byte-identical (manifest and blobs)', async () => {
    const repo = uniqueRepo('skopeo-roundtrip');
    const img = await randomImageLayout(tempDir('layout'), 'v1', 3, 300_000);
    await timed(SUITE, 'copy OCI layout in (3 layers)', () =>
      push(`oci:${img.layout.dir}:v1`, repo, 'v1', '--preserve-digests'));
    const out = join(tempDir('out'), 'layout');
    await timed(SUITE, 'copy back out to OCI layout', () =>
      env().skopeo(['copy', '--src-tls-verify=false', ref(repo, 'v1'), `oci:${out}:v1`]));
    const blobs = await expectSameImage(img.layout.dir, 'v1', out, 'v1');
    expect(blobs).toBe(5); // manifest + config + 3 layers
    const got = await ctx.api.manifest(repo, 'v1');
    expect(got.status).toBe(200);
    expect(got.headers.get('docker-content-digest')).toBe(img.manifest.digest);
    expect(got.body.equals(layoutBlob(img.layout.dir, img.manifest.digest))).toBe(true);
  }, T);

  it('skopeo inspect returns the pushed digest, layers, labels and raw config', async () => {
    const repo = uniqueRepo('skopeo-inspect');
    const img = await pushRandom(repo);
    const info = JSON.parse((await timed(SUITE, 'inspect', () =>
      env().skopeo(['inspect', '--tls-verify=false', ref(repo, 'v1')]))).stdout);
    expect(info.Digest).toBe(img.manifest.digest);
    expect(info.Layers).toEqual(img.layers.map((l) => l.desc.digest));
    expect(info.Architecture).toBe('amd64');
    expect(info.Labels['berth.e2e']).toMatch(/^[0-9a-f]{16}$/);
    const raw = await env().skopeo(['inspect', '--raw', '--tls-verify=false', ref(repo, 'v1')]);
    expect(raw.stdout).toBe(layoutBlob(img.layout.dir, img.manifest.digest).toString());
    const manifest = JSON.parse(raw.stdout);
    const config = await env().skopeo(['inspect', '--config', '--raw', '--tls-verify=false', ref(repo, 'v1')]);
    expect(config.stdout).toBe(layoutBlob(img.layout.dir, manifest.config.digest).toString());
  }, T);

  it('skopeo list-tags lists every pushed tag', async () => {
    const repo = uniqueRepo('skopeo-tags');
    const img = await pushRandom(repo, 'v1', 1);
    for (const tag of ['v2', 'latest', '1.0.0']) await push(`oci:${img.layout.dir}:v1`, repo, tag);
    const out = await timed(SUITE, 'list-tags', () =>
      env().skopeo(['list-tags', '--tls-verify=false', `docker://${ctx.server.host}/${repo}`]));
    const listed = JSON.parse(out.stdout);
    expect(listed.Repository).toBe(`${ctx.server.host}/${repo}`);
    expect([...listed.Tags].sort()).toEqual(['1.0.0', 'latest', 'v1', 'v2']);
  }, T);

  it('skopeo delete by digest: GET /v2/<name>/manifests/<digest> is then 404', async () => {
    const repo = uniqueRepo('skopeo-delete');
    const keep = await pushRandom(repo, 'keep', 1);
    const gone = await pushRandom(repo, 'gone', 1);
    expect((await ctx.api.manifest(repo, gone.manifest.digest)).status).toBe(200);
    await timed(SUITE, 'delete by digest', () =>
      env().skopeo(['delete', '--tls-verify=false', ref(repo, gone.manifest.digest)]));
    expect((await ctx.api.manifest(repo, gone.manifest.digest)).status).toBe(404);
    expect((await ctx.api.manifest(repo, gone.manifest.digest, 'HEAD')).status).toBe(404);
    expect((await ctx.api.manifest(repo, 'gone')).status, 'tag of the deleted manifest').toBe(404);
    const inspect = await env().skopeo(['inspect', '--raw', '--tls-verify=false', ref(repo, gone.manifest.digest)], { allowFail: true });
    expect(inspect.code).not.toBe(0);
    expect((await ctx.api.manifest(repo, keep.manifest.digest)).status, 'other manifest untouched').toBe(200);
    expect(await ctx.api.tags(repo)).toEqual(['keep']);
  }, T);

  it('skopeo copy --all of a two-arch index into a second repository (cross-repo mount) keeps every digest', async () => {
    const layout = new OciLayout(tempDir('multi'));
    const amd = layout.addImage([await layout.addRandomLayer([{ name: 'amd64.bin', size: 200_000 }])], 'amd64');
    const arm = layout.addImage([await layout.addRandomLayer([{ name: 'arm64.bin', size: 200_000 }])], 'arm64');
    const index = layout.addIndex([amd, arm]);
    layout.tag(index, 'multi');
    const a = uniqueRepo('skopeo-multi-a');
    const b = uniqueRepo('skopeo-multi-b');
    await timed(SUITE, 'copy --all index from OCI layout', () =>
      push(`oci:${layout.dir}:multi`, a, 'multi', '--all', '--preserve-digests'));
    const logStart = ctx.server.logs.length;
    await timed(SUITE, 'copy --all index between repositories', () =>
      env().skopeo(['copy', '--all', '--src-tls-verify=false', '--dest-tls-verify=false', ref(a, 'multi'), ref(b, 'multi')]));
    const got = await ctx.api.manifest(b, 'multi');
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe(MT.index);
    expect(got.headers.get('docker-content-digest')).toBe(index.digest);
    for (const child of [amd, arm]) {
      const m = await ctx.api.manifestJson(b, child.digest);
      for (const blob of [m.config, ...m.layers]) {
        const head = await ctx.api.blob(b, blob.digest, 'HEAD');
        expect(head.status, `HEAD blob ${blob.digest} in ${b}`).toBe(200);
        expect(head.headers.get('content-length')).toBe(String(blob.size));
      }
    }
    const mounts = ctx.server.logs.slice(logStart).filter((l) => l.includes('mount=') && l.includes(b));
    ctx.extra['cross-repo mount requests seen in server log'] = String(mounts.length);
  }, T);

  it('skopeo pushes an artifact with artifactType and subject; GET /v2/<name>/referrers/<digest> lists it', async () => {
    const repo = uniqueRepo('skopeo-referrers');
    const img = await pushRandom(repo, 'v1', 1);
    const artifactType = 'application/vnd.berth.e2e.note.v1';
    const art = img.layout.addArtifact(artifactType, `note ${Date.now()}`, img.manifest);
    img.layout.tag(art, 'note');
    await timed(SUITE, 'push artifact by digest', () =>
      push(`oci:${img.layout.dir}:note`, repo, art.digest, '--preserve-digests'));
    const raw = await env().skopeo(['inspect', '--raw', '--tls-verify=false', ref(repo, art.digest)]);
    expect(raw.stdout).toBe(layoutBlob(img.layout.dir, art.digest).toString());
    expect(JSON.parse(raw.stdout).subject.digest).toBe(img.manifest.digest);
    const out = join(tempDir('art-out'), 'layout');
    await env().skopeo(['copy', '--src-tls-verify=false', ref(repo, art.digest), `oci:${out}:note`]);
    expect(layoutRef(out, 'note').digest).toBe(art.digest);
    if (lacks(ctx.server, 'referrers')) {
      console.warn(`[e2e] ${ctx.server.runtime} has no referrers API; referrers assertions skipped`);
      return;
    }
    const list = await ctx.api.referrers(repo, img.manifest.digest);
    expect(list.status).toBe(200);
    expect(list.headers.get('content-type')).toContain(MT.index);
    const index = JSON.parse(list.body.toString());
    expect(index.manifests).toEqual([expect.objectContaining({
      mediaType: MT.manifest, digest: art.digest, size: art.size, artifactType,
    })]);
    const filtered = JSON.parse((await ctx.api.referrers(repo, img.manifest.digest, 'application/x-other')).body.toString());
    expect(filtered.manifests).toEqual([]);
  }, T);
});
