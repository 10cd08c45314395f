// Concurrent pushes: four clients push four different images at once, then two
// clients push the same image to the same tag at once (racing uploads of the
// same blobs). Every push succeeds and every image pulls back byte-identical.
// A third case runs four different client programs at once.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildScratchImage } from './lib/buildah.ts';
import { skipWithout, timed } from './lib/clients.ts';
import { startContainerd } from './lib/containerd.ts';
import { containersEnv } from './lib/containers-env.ts';
import { startDockerd } from './lib/dockerd.ts';
import { expectSameImage } from './lib/layout-compare.ts';
import { randomImageLayout } from './lib/oci-layout.ts';
import { uniqueRepo } from './lib/registry-api.ts';
import { useRegistry } from './lib/suite.ts';
import { tempDir } from './lib/tmp.ts';
import { ctrTransport } from './servers.ts';

const SUITE = 'concurrency';
const T = 600_000;
const LAYER = 4 * 1024 * 1024;

describe.skipIf(skipWithout('skopeo'))('concurrent pushes (skopeo)', () => {
  const ctx = useRegistry(SUITE, ['skopeo']);

  /** Each client has its own state dir and blob-info cache, so none skips an upload. */
  const client = (i: number) => containersEnv(`conc-${i}`, [ctx.server.host]);

  async function pullBackAndCompare(layoutDir: string, repo: string, tag: string) {
    const out = join(tempDir('conc-out'), 'layout');
    await client(99).skopeo(['copy', '--src-tls-verify=false', `docker://${ctx.server.host}/${repo}:${tag}`, `oci:${out}:${tag}`]);
    await expectSameImage(layoutDir, tag, out, tag);
  }

  it('four clients push four different images at once; all succeed and pull back intact', async () => {
    const images = await Promise.all([0, 1, 2, 3].map(() => randomImageLayout(tempDir('conc-layout'), 'v1', 2, LAYER)));
    const repos = images.map(() => uniqueRepo('conc-four'));
    const results = await timed(SUITE, '4 x skopeo push at once (2 x 4 MiB layers each)', () => Promise.allSettled(images.map((img, i) =>
      client(i).skopeo(['copy', '--dest-tls-verify=false', `oci:${img.layout.dir}:v1`, `docker://${ctx.server.host}/${repos[i]}:v1`]))));
    expect(results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok'))).toEqual(['ok', 'ok', 'ok', 'ok']);
    await timed(SUITE, 'pull back 4 images', () =>
      Promise.all(images.map((img, i) => pullBackAndCompare(img.layout.dir, repos[i]!, 'v1'))));
  }, T);

  it('two clients push the same image to the same tag at once; both succeed and it pulls back intact', async () => {
    const img = await randomImageLayout(tempDir('conc-layout'), 'v1', 3, LAYER);
    const repo = uniqueRepo('conc-same');
    const dest = `docker://${ctx.server.host}/${repo}:v1`;
    const results = await timed(SUITE, '2 x skopeo push of the same image at once', () => Promise.allSettled([10, 11].map((i) =>
      client(i).skopeo(['copy', '--dest-tls-verify=false', `oci:${img.layout.dir}:v1`, dest]))));
    expect(results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok'))).toEqual(['ok', 'ok']);
    const served = await ctx.api.manifest(repo, 'v1');
    expect(served.headers.get('docker-content-digest')).toBe(img.manifest.digest);
    for (const l of img.layers) {
      const blob = await ctx.api.blobDigest(repo, l.desc.digest);
      expect(blob).toEqual({ status: 200, digest: l.desc.digest, size: l.desc.size });
    }
    await pullBackAndCompare(img.layout.dir, repo, 'v1');
  }, T);
});

describe.skipIf(skipWithout('skopeo', 'podman', 'buildah', 'docker', 'dockerd', 'ctr', 'containerd'))(
  'concurrent pushes (skopeo, podman, docker, ctr)', () => {
    const ctx = useRegistry(`${SUITE} (mixed clients)`, ['skopeo', 'podman', 'buildah', 'docker', 'dockerd', 'ctr', 'containerd']);
    const client = (i: number) => containersEnv(`conc-mixed-${i}`, [ctx.server.host]);

    it('skopeo, podman, docker and ctr push four different images at once; all intact', async () => {
      const host = ctx.server.host;
      const [d, c] = await Promise.all([startDockerd('dockerd-conc'), startContainerd()]);
      try {
        const repos = ['skopeo', 'podman', 'docker', 'ctr'].map((n) => uniqueRepo(`conc-${n}`)) as [string, string, string, string];
        const sk = await randomImageLayout(tempDir('conc-layout'), 'v1', 2, LAYER);
        const ct = await randomImageLayout(tempDir('conc-layout'), 'v1', 2, LAYER);
        await c.importLayout(ct.layout.dir, `${host}/${repos[3]}`);
        const pm = containersEnv('conc-podman', [host]);
        const local = await buildScratchImage(pm, 'conc-podman', 'amd64', LAYER);
        await d.buildScratch(`${host}/${repos[2]}:v1`, LAYER);
        const df = join(tempDir('digest'), 'digest');
        const pushes: Array<Promise<string>> = [
          client(0).skopeo(['copy', '--dest-tls-verify=false', `oci:${sk.layout.dir}:v1`, `docker://${host}/${repos[0]}:v1`])
            .then(() => sk.manifest.digest),
          pm.podman(['push', '--tls-verify=false', '--digestfile', df, local, `docker://${host}/${repos[1]}:v1`])
            .then(() => readFileSync(df, 'utf8').trim()),
          d.push(`${host}/${repos[2]}:v1`),
          c.ctr(['images', 'push', ...ctrTransport(ctx.server), `${host}/${repos[3]}:v1`]).then(() => ct.manifest.digest),
        ];
        const results = await timed(`${SUITE} (mixed clients)`, 'skopeo + podman + docker + ctr push at once', () => Promise.allSettled(pushes));
        expect(results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok'))).toEqual(['ok', 'ok', 'ok', 'ok']);
        for (const [i, r] of results.entries()) {
          await ctx.api.expectIntact(repos[i]!, 'v1', (r as PromiseFulfilledResult<string>).value);
        }
      } finally {
        await Promise.all([d.stop(), c.stop()]);
      }
    }, T);
  });
