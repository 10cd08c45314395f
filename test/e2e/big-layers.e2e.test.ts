// One 512 MiB random layer (BERTH_E2E_BIG_MIB to change) pushed and pulled
// with skopeo and with docker; bytes checked end to end, server peak RSS
// (VmHWM of the server process and its children) recorded after each client.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertClients, skipWithout, timed } from './lib/clients.ts';
import { containersEnv } from './lib/containers-env.ts';
import { startDockerd } from './lib/dockerd.ts';
import { fileDigest, layoutRef } from './lib/layout-compare.ts';
import { OciLayout } from './lib/oci-layout.ts';
import { uniqueRepo } from './lib/registry-api.ts';
import { formatKiB, useRegistry } from './lib/suite.ts';
import { tempDir } from './lib/tmp.ts';

const SUITE = 'big-layers';
const MIB = Number(process.env.BERTH_E2E_BIG_MIB ?? 512);
const BYTES = MIB * 1024 * 1024;
const T = 1_800_000;
// Blobs must stream: the server's peak RSS stays well under the layer size.
const MAX_RSS_MIB = Number(process.env.BERTH_E2E_MAX_RSS_MIB ?? Math.max(256, MIB / 2));

describe('big layers', () => {
  const ctx = useRegistry(SUITE, []);
  const rss = (label: string) => {
    const kib = ctx.server.peakRssKiB();
    ctx.extra[`server peak RSS after ${label}`] = formatKiB(kib);
    if (kib !== undefined && label !== 'start') {
      expect.soft(kib / 1024, `server peak RSS after ${label} (MiB; limit BERTH_E2E_MAX_RSS_MIB)`).toBeLessThan(MAX_RSS_MIB);
    }
  };

  it.skipIf(skipWithout('skopeo'))(`skopeo push + pull of a ${MIB} MiB layer: layer digest and bytes identical`, async () => {
    assertClients('skopeo');
    rss('start');
    const c = containersEnv('big-skopeo', [ctx.server.host]);
    const layout = new OciLayout(tempDir('big-layout'));
    const layer = await timed(SUITE, `write ${MIB} MiB random layer`, () =>
      layout.addRandomLayer([{ name: 'big.bin', size: BYTES }], false));
    const manifest = layout.addImage([layer]);
    layout.tag(manifest, 'big');
    const repo = uniqueRepo('big-skopeo');
    const ref = `docker://${ctx.server.host}/${repo}:big`;
    await timed(SUITE, `skopeo push ${MIB} MiB`, () =>
      c.skopeo(['copy', '--preserve-digests', '--dest-tls-verify=false', `oci:${layout.dir}:big`, ref], { timeoutMs: T }));
    rss('skopeo push');
    const head = await ctx.api.blob(repo, layer.desc.digest, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(layer.desc.size));
    const out = join(tempDir('big-out'), 'layout');
    await timed(SUITE, `skopeo pull ${MIB} MiB`, () =>
      c.skopeo(['copy', '--preserve-digests', '--dest-oci-accept-uncompressed-layers', '--src-tls-verify=false',
        ref, `oci:${out}:big`], { timeoutMs: T }));
    rss('skopeo pull');
    expect(layoutRef(out, 'big').digest).toBe(manifest.digest);
    const pulled = join(out, 'blobs', 'sha256', layer.desc.digest.slice('sha256:'.length));
    expect(await fileDigest(pulled)).toBe(layer.desc.digest);
  }, T);

  it.skipIf(skipWithout('docker', 'dockerd'))(`docker push + pull of a ${MIB} MiB layer: file bytes identical`, async () => {
    assertClients('docker', 'dockerd');
    const d = await startDockerd('dockerd-big');
    try {
      const repo = uniqueRepo('big-docker');
      const ref = `${ctx.server.host}/${repo}:big`;
      const { payloadDigest } = await timed(SUITE, `docker build ${MIB} MiB`, () => d.buildScratch(ref, BYTES));
      const digest = await timed(SUITE, `docker push ${MIB} MiB`, () => d.push(ref));
      rss('docker push');
      await d.docker(['rmi', ref]);
      const pull = await timed(SUITE, `docker pull ${MIB} MiB`, () => d.docker(['pull', ref], { timeoutMs: T }));
      rss('docker pull');
      expect(pull.stdout).toContain(`Digest: ${digest}`);
      expect(await timed(SUITE, 'docker save | sha256 of the file', () => d.fileDigestInImage(ref, '/payload.bin'))).toBe(payloadDigest);
    } finally {
      await d.stop();
    }
  }, T);
});
