// podman and buildah against a live registry: an image built offline
// (buildah from scratch), pushed in OCI and Docker v2s2 formats, pulled into a
// fresh store with the same digest; buildah manifest push --all of two arches.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { skipWithout, timed } from './lib/clients.ts';
import { buildScratchImage } from './lib/buildah.ts';
import { containersEnv, type ContainersEnv } from './lib/containers-env.ts';
import { MT } from './lib/oci-layout.ts';
import { uniqueRepo } from './lib/registry-api.ts';
import { useRegistry } from './lib/suite.ts';
import { tempDir } from './lib/tmp.ts';

const SUITE = 'podman+buildah';
const T = 300_000;

describe.skipIf(skipWithout('podman', 'buildah'))('podman and buildah', () => {
  const ctx = useRegistry(SUITE, ['podman', 'buildah']);
  let builder: ContainersEnv;
  const b = () => (builder ??= containersEnv('buildah', [ctx.server.host]));
  const digestFile = () => join(tempDir('digest'), 'digest');

  /** podman pull into a brand-new store; returns `podman image inspect` of it. */
  async function pullFresh(ref: string, ...flags: string[]): Promise<{ Digest: string; RepoDigests: string[]; Architecture: string }> {
    const fresh = containersEnv('podman-pull', [ctx.server.host]);
    await fresh.podman(['pull', '--quiet', '--tls-verify=false', ...flags, ref]);
    return JSON.parse((await fresh.podman(['image', 'inspect', ref])).stdout)[0];
  }

  it('buildah from scratch + buildah push, podman pull into a fresh store: same manifest digest', async () => {
    const image = await timed(SUITE, 'buildah build from scratch', () => buildScratchImage(b(), 'e2e-scratch'));
    const repo = uniqueRepo('buildah-push');
    const ref = `${ctx.server.host}/${repo}:v1`;
    const df = digestFile();
    await timed(SUITE, 'buildah push (OCI)', () =>
      b().buildah(['push', '--tls-verify=false', '--digestfile', df, image, `docker://${ref}`]));
    const pushed = readFileSync(df, 'utf8').trim();
    const served = await ctx.api.manifest(repo, 'v1');
    expect(served.status).toBe(200);
    expect(served.headers.get('docker-content-digest')).toBe(pushed);
    expect(served.headers.get('content-type')).toBe(MT.manifest);
    const pulled = await timed(SUITE, 'podman pull into fresh store', () => pullFresh(ref));
    expect(pulled.Digest).toBe(pushed);
  }, T);

  it('podman push --format v2s2 serves a Docker manifest, --format oci an OCI manifest; both pull back', async () => {
    const image = await buildScratchImage(b(), 'e2e-formats');
    const repo = uniqueRepo('podman-formats');
    const cases = [
      { format: 'v2s2', tag: 'docker', mediaType: MT.dockerManifest },
      { format: 'oci', tag: 'oci', mediaType: MT.manifest },
    ];
    for (const { format, tag, mediaType } of cases) {
      const ref = `${ctx.server.host}/${repo}:${tag}`;
      const df = digestFile();
      await timed(SUITE, `podman push --format ${format}`, () =>
        b().podman(['push', '--tls-verify=false', '--format', format, '--digestfile', df, image, `docker://${ref}`]));
      const pushed = readFileSync(df, 'utf8').trim();
      const served = await ctx.api.manifest(repo, tag);
      expect(served.status).toBe(200);
      expect(served.headers.get('content-type'), `${format} Content-Type`).toBe(mediaType);
      expect(JSON.parse(served.body.toString()).mediaType).toBe(mediaType);
      expect(served.headers.get('docker-content-digest')).toBe(pushed);
      expect((await timed(SUITE, `podman pull (${format})`, () => pullFresh(ref))).Digest).toBe(pushed);
    }
  }, T);

  it('buildah manifest push --all of a two-arch index; podman pull --arch arm64 gets the arm64 manifest', async () => {
    const amd = await buildScratchImage(b(), 'e2e-list-amd64', 'amd64');
    const arm = await buildScratchImage(b(), 'e2e-list-arm64', 'arm64');
    const list = `localhost/e2e-list-${randomBytes(4).toString('hex')}`;
    await b().buildah(['manifest', 'create', list]);
    await b().buildah(['manifest', 'add', '--arch', 'amd64', list, `containers-storage:${amd}`]);
    await b().buildah(['manifest', 'add', '--arch', 'arm64', list, `containers-storage:${arm}`]);
    const repo = uniqueRepo('buildah-index');
    const ref = `${ctx.server.host}/${repo}:multi`;
    const df = digestFile();
    await timed(SUITE, 'buildah manifest push --all', () =>
      b().buildah(['manifest', 'push', '--all', '--tls-verify=false', '--digestfile', df, list, `docker://${ref}`]));
    const served = await ctx.api.manifest(repo, 'multi');
    expect(served.status).toBe(200);
    expect(served.headers.get('docker-content-digest')).toBe(readFileSync(df, 'utf8').trim());
    const index = JSON.parse(served.body.toString());
    expect([MT.index, MT.dockerList]).toContain(served.headers.get('content-type'));
    const archs = index.manifests.map((m: any) => m.platform.architecture).sort();
    expect(archs).toEqual(['amd64', 'arm64']);
    for (const m of index.manifests) {
      const child = await ctx.api.manifest(repo, m.digest);
      expect(child.status, `child ${m.platform.architecture}`).toBe(200);
      expect(child.body.length).toBe(m.size);
    }
    const armDigest = index.manifests.find((m: any) => m.platform.architecture === 'arm64').digest;
    const pulled = await timed(SUITE, 'podman pull --arch arm64 of the index', () => pullFresh(ref, '--arch', 'arm64'));
    // podman records the index digest as .Digest and both digests in RepoDigests
    expect(pulled.Architecture).toBe('arm64');
    expect(pulled.RepoDigests).toContain(`${ctx.server.host}/${repo}@${armDigest}`);
  }, T);
});
