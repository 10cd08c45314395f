// containerd (ctr, own containerd process) against a live registry:
// ctr images push --plain-http of an imported OCI image, then remove it and
// ctr images pull --plain-http it back with the same digests.
import { describe, expect, it, afterAll, beforeAll } from 'vitest';
import { hasClients, skipWithout, timed } from './lib/clients.ts';
import { startContainerd, type Containerd } from './lib/containerd.ts';
import { MT, randomImageLayout } from './lib/oci-layout.ts';
import { uniqueRepo } from './lib/registry-api.ts';
import { useRegistry } from './lib/suite.ts';
import { tempDir } from './lib/tmp.ts';
import { ctrTransport } from './servers.ts';

const SUITE = 'containerd';
const T = 300_000;

describe.skipIf(skipWithout('ctr', 'containerd'))('containerd (ctr)', () => {
  const ctx = useRegistry(SUITE, ['ctr', 'containerd']);
  let c: Containerd;
  beforeAll(async () => { if (!hasClients('ctr', 'containerd')) return; c = await timed(SUITE, 'start containerd', () => startContainerd()); }, 120_000);
  afterAll(async () => { await c?.stop(); }, 60_000);

  /** `ctr images ls` digest column for one name. */
  async function localDigest(name: string): Promise<string | undefined> {
    const out = await c.ctr(['images', 'ls']);
    const line = out.stdout.split('\n').find((l) => l.split(/\s+/)[0] === name);
    return line?.split(/\s+/)[2];
  }

  it('ctr images push --plain-http, rm, ctr images pull --plain-http: same manifest and blobs', async () => {
    const repo = uniqueRepo('ctr');
    const name = `${ctx.server.host}/${repo}:v1`;
    const img = await randomImageLayout(tempDir('ctr-layout'), 'v1', 2, 500_000);
    await c.importLayout(img.layout.dir, `${ctx.server.host}/${repo}`);
    expect(await localDigest(name)).toBe(img.manifest.digest);
    await timed(SUITE, 'ctr images push --plain-http', () => c.ctr(['images', 'push', ...ctrTransport(ctx.server), name]));
    const served = await ctx.api.manifest(repo, 'v1');
    expect(served.status).toBe(200);
    expect(served.headers.get('docker-content-digest')).toBe(img.manifest.digest);
    expect(served.headers.get('content-type')).toBe(MT.manifest);
    for (const l of img.layers) {
      const blob = await ctx.api.blobDigest(repo, l.desc.digest);
      expect(blob).toEqual({ status: 200, digest: l.desc.digest, size: l.desc.size });
    }
    await c.ctr(['images', 'rm', '--sync', name]);
    expect(await localDigest(name)).toBeUndefined();
    const left = (await c.ctr(['content', 'ls', '--quiet'])).stdout;
    for (const l of img.layers) expect(left, 'layer garbage-collected before the pull').not.toContain(l.desc.digest);
    await timed(SUITE, 'ctr images pull --plain-http', () =>
      c.ctr(['images', 'pull', ...ctrTransport(ctx.server), '--snapshotter', 'native', name]));
    expect(await localDigest(name)).toBe(img.manifest.digest);
    for (const l of img.layers) {
      const info = await c.ctr(['content', 'get', l.desc.digest], { allowFail: true });
      expect(info.code, `layer ${l.desc.digest} in the content store`).toBe(0);
    }
  }, T);
});
