// docker (dockerd 20.10 started by the test, CLI from PATH) against a live
// registry: build FROM scratch, push, rmi, pull by tag and by digest, and
// docker manifest create/annotate/push of a two-arch list.
import { describe, expect, it, afterAll, beforeAll } from 'vitest';
import { hasClients, skipWithout, timed } from './lib/clients.ts';
import { startDockerd, type Dockerd } from './lib/dockerd.ts';
import { MT } from './lib/oci-layout.ts';
import { uniqueRepo } from './lib/registry-api.ts';
import { useRegistry } from './lib/suite.ts';

const SUITE = 'docker';
const T = 300_000;

describe.skipIf(skipWithout('docker', 'dockerd'))('docker', () => {
  const ctx = useRegistry(SUITE, ['docker', 'dockerd']);
  let d: Dockerd;
  beforeAll(async () => { if (!hasClients('docker', 'dockerd')) return; d = await timed(SUITE, 'start dockerd', () => startDockerd()); }, 120_000);
  afterAll(async () => { await d?.stop(); }, 60_000);
  const imageId = async (ref: string) => (await d.docker(['image', 'inspect', '--format', '{{.Id}}', ref])).stdout.trim();

  it('docker build FROM scratch, push, rmi, pull: same image ID, digest and file bytes', async () => {
    const repo = uniqueRepo('docker-push');
    const ref = `${ctx.server.host}/${repo}:v1`;
    const { payloadDigest } = await timed(SUITE, 'docker build FROM scratch', () => d.buildScratch(ref));
    const id = await imageId(ref);
    const digest = await timed(SUITE, 'docker push', () => d.push(ref));
    const served = await ctx.api.manifest(repo, 'v1');
    expect(served.status).toBe(200);
    expect(served.headers.get('docker-content-digest')).toBe(digest);
    expect(served.headers.get('content-type')).toBe(MT.dockerManifest);
    await d.docker(['rmi', ref]);
    expect((await d.docker(['image', 'inspect', ref], { allowFail: true })).code).not.toBe(0);
    const pull = await timed(SUITE, 'docker pull by tag', () => d.docker(['pull', ref]));
    expect(pull.stdout).toContain(`Digest: ${digest}`);
    expect(await imageId(ref)).toBe(id);
    expect(await d.fileDigestInImage(ref, '/payload.bin')).toBe(payloadDigest);
  }, T);

  it('docker pull <name>@<digest> after rmi gets the pushed image', async () => {
    const repo = uniqueRepo('docker-digest');
    const ref = `${ctx.server.host}/${repo}:v1`;
    await d.buildScratch(ref);
    const id = await imageId(ref);
    const digest = await d.push(ref);
    await d.docker(['rmi', ref]);
    const byDigest = `${ctx.server.host}/${repo}@${digest}`;
    const pull = await timed(SUITE, 'docker pull by digest', () => d.docker(['pull', byDigest]));
    expect(pull.stdout).toContain(`Digest: ${digest}`);
    expect(await imageId(byDigest)).toBe(id);
    const repoDigests = (await d.docker(['image', 'inspect', '--format', '{{json .RepoDigests}}', byDigest])).stdout;
    expect(JSON.parse(repoDigests)).toContain(byDigest);
  }, T);

  it('docker manifest create/annotate/push of a two-arch list; docker pull of the list gets the amd64 image', async () => {
    const repo = uniqueRepo('docker-manifest');
    const host = ctx.server.host;
    const [amd, arm, list] = ['amd64', 'arm64', 'list'].map((t) => `${host}/${repo}:${t}`) as [string, string, string];
    await d.buildScratch(amd);
    await d.buildScratch(arm);
    const amdDigest = await d.push(amd);
    const armDigest = await d.push(arm);
    const amdId = await imageId(amd);
    await timed(SUITE, 'docker manifest create', () => d.docker(['manifest', 'create', '--insecure', list, amd, arm]));
    await d.docker(['manifest', 'annotate', '--arch', 'arm64', '--os', 'linux', list, arm]);
    await d.docker(['manifest', 'annotate', '--arch', 'amd64', '--os', 'linux', list, amd]);
    const pushed = await timed(SUITE, 'docker manifest push', () => d.docker(['manifest', 'push', '--insecure', list]));
    const listDigest = pushed.stdout.trim().split('\n').pop()!;
    expect(listDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const served = await ctx.api.manifest(repo, 'list');
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe(MT.dockerList);
    expect(served.headers.get('docker-content-digest')).toBe(listDigest);
    const byArch = Object.fromEntries(JSON.parse(served.body.toString()).manifests
      .map((m: any) => [m.platform.architecture, m.digest]));
    expect(byArch).toEqual({ amd64: amdDigest, arm64: armDigest });
    await d.docker(['rmi', amd, arm]);
    await timed(SUITE, 'docker pull of the list', () => d.docker(['pull', list]));
    expect(await imageId(list)).toBe(amdId);
  }, T);
});
