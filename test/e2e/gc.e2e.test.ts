// skopeo and `berth gc` on a live Node server: two images sharing a base layer pushed,
// one deleted, gc run in its own process while the server serves the same folder; the other
// image pulls back byte-identical and the storage folder shrinks by the deleted image's
// unique blobs, exactly.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { skipWithout, timed } from './lib/clients.ts';
import { containersEnv, type ContainersEnv } from './lib/containers-env.ts';
import { run } from './lib/exec.ts';
import { expectSameImage, layoutBlob } from './lib/layout-compare.ts';
import { OciLayout } from './lib/oci-layout.ts';
import { peakRssKiB, startDaemon } from '../lib/daemon.ts';
import { uniqueRepo } from './lib/registry-api.ts';
import { useRegistry } from './lib/suite.ts';
import { tempDir } from './lib/tmp.ts';
import type { RunningServer } from './servers.ts';

const SUITE = 'gc';
const BIN = fileURLToPath(new URL('../../bin/berth.mjs', import.meta.url));
const root = tempDir('gc-root');

/** A Node server on a folder this suite knows, so it can measure it and run `berth gc` on it. */
async function launchOnRoot(): Promise<RunningServer> {
  const d = startDaemon(process.execPath, [BIN, 'serve', '--root', root, '--host', '127.0.0.1', '--port', '0', '--quiet']);
  const url = (await d.waitForLine(/berth listening on (http:\/\/127\.0\.0\.1:\d+)/, 60_000))[1]!;
  return { url, host: new URL(url).host, pid: d.pid, runtime: 'node', logs: d.logs, peakRssKiB: () => peakRssKiB(d.pid), stop: () => d.stop() };
}

/** Bytes of blob data in the storage folder. */
function blobBytes(dir: string): number {
  let total = 0;
  const walk = (path: string) => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(path, entry.name));
      else if (entry.name === 'data') total += statSync(join(path, entry.name)).size;
    }
  };
  walk(join(dir, 'blobs'));
  return total;
}

describe.skipIf(skipWithout('skopeo'))('berth gc with skopeo', () => {
  const ctx = useRegistry(SUITE, ['skopeo'], launchOnRoot);
  let c: ContainersEnv;
  const env = () => (c ??= containersEnv('gc', [ctx.server.host]));
  const ref = (repo: string, tag: string) => `docker://${ctx.server.host}/${repo}:${tag}`;

  it('push two images sharing a base, skopeo delete one, berth gc --grace 0s -> the other pulls back byte-identical; disk drops by the unique blobs', async () => {
    const repo = uniqueRepo('gc-shared');
    const layout = new OciLayout(tempDir('layout'));
    const base = await layout.addRandomLayer([{ name: 'base.bin', size: 400_000 }]);
    const onlyA = await layout.addRandomLayer([{ name: 'a.bin', size: 300_000 }]);
    const onlyB = await layout.addRandomLayer([{ name: 'b.bin', size: 300_000 }]);
    const a = layout.addImage([base, onlyA]);
    const b = layout.addImage([base, onlyB]);
    layout.tag(a, 'a');
    layout.tag(b, 'b');
    for (const tag of ['a', 'b']) {
      await timed(SUITE, `copy image ${tag} in`, () =>
        env().skopeo(['copy', '--dest-tls-verify=false', '--preserve-digests', `oci:${layout.dir}:${tag}`, ref(repo, tag)]));
    }
    const before = blobBytes(root);
    const configA = JSON.parse(layoutBlob(layout.dir, a.digest).toString()).config as { digest: string; size: number };
    const uniqueA = onlyA.desc.size + configA.size + a.size;

    await timed(SUITE, 'skopeo delete image a', () => env().skopeo(['delete', '--tls-verify=false', ref(repo, 'a')]));
    const gc = await timed(SUITE, 'berth gc (server running)', () => run(process.execPath, [BIN, 'gc', '--root', root, '--grace', '0s']));
    expect(gc.stdout).toMatch(/removed \d+ tags, \d+ manifests, 3 blobs/);
    expect(before - blobBytes(root)).toBe(uniqueA);
    expect((await ctx.api.blob(repo, onlyA.desc.digest)).status).toBe(404);

    const out = join(tempDir('out'), 'layout');
    await timed(SUITE, 'copy image b back out', () =>
      env().skopeo(['copy', '--src-tls-verify=false', ref(repo, 'b'), `oci:${out}:b`]));
    expect(await expectSameImage(layout.dir, 'b', out, 'b')).toBe(4); // manifest, config, 2 layers
    const du = await run(process.execPath, [BIN, 'du', '--root', root]);
    expect(du.stdout).toContain(repo);
  }, 300_000);
});
