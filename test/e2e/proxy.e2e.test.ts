// The pull-through cache with real clients and a real upstream: distribution 2.8 with htpasswd
// (test/e2e/lib/upstream-registry.ts, behind a counting front), Berth on Node in front of it.
// skopeo and podman pull through the cache (same digests; the second pull asks the upstream
// nothing), the upstream stopped (cached tags and blobs still pull), the upstream killed in
// the middle of a big blob (an error, nothing half-cached, a retry succeeds), docker with
// registry-mirrors, containerd with a hosts.toml mirror and ?ns=.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertClients, hasClients, skipWithout, timed, which } from './lib/clients.ts';
import { startContainerd } from './lib/containerd.ts';
import { containersEnv, type ContainersEnv } from './lib/containers-env.ts';
import { startDockerd } from './lib/dockerd.ts';
import { expectSameImage } from './lib/layout-compare.ts';
import { randomImageLayout } from './lib/oci-layout.ts';
import { startDaemon, type Daemon } from '../lib/daemon.ts';
import { uniqueRepo } from './lib/registry-api.ts';
import { removeTempDirs, tempDir } from './lib/tmp.ts';
import { startUpstreamRegistry, UP_PASSWORD, UP_USER, type UpstreamRegistry } from './lib/upstream-registry.ts';

const SUITE = 'pull-through';
const T = 300_000;
const BIN = fileURLToPath(new URL('../../bin/berth.mjs', import.meta.url));

async function startBerth(...flags: string[]): Promise<{ host: string; url: string; daemon: Daemon }> {
  const daemon = startDaemon(process.execPath, [BIN, 'serve', '--root', tempDir('proxy-root'), '--host', '127.0.0.1', '--port', '0', ...flags]);
  const m = await daemon.waitForLine(/berth listening on (http:\/\/127\.0\.0\.1:(\d+))/, 60_000);
  return { url: m[1]!, host: new URL(m[1]!).host, daemon };
}

describe.skipIf(skipWithout('skopeo', 'docker-registry'))('pull-through cache (distribution upstream)', () => {
  let up: UpstreamRegistry;
  let mirror: Awaited<ReturnType<typeof startBerth>>; // --upstream URL: every repository
  let spaced: Awaited<ReturnType<typeof startBerth>>; // up/ and docker.io/ namespaces, 1 s tag TTL
  let c: ContainersEnv;
  beforeAll(async () => {
    if (!hasClients('skopeo', 'docker-registry')) return;
    up = await startUpstreamRegistry();
    const withCredentials = up.frontUrl.replace('http://', `http://${UP_USER}:${UP_PASSWORD}@`);
    mirror = await startBerth('--upstream', withCredentials);
    spaced = await startBerth('--upstream', `up=${withCredentials}`, '--upstream', `docker.io=${withCredentials}`, '--upstream-tag-ttl', '1s', '--upstream-timeout', '3s');
    c = containersEnv('proxy', [up.directHost, mirror.host, spaced.host]);
  }, 120_000);
  afterAll(async () => {
    await mirror?.daemon.stop();
    await spaced?.daemon.stop();
    await up?.close();
    removeTempDirs();
  }, 60_000);

  async function pushUpstream(repo: string, layers = 2, size = 300_000) {
    const img = await randomImageLayout(tempDir('layout'), 'v1', layers, size);
    await c.skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', `${UP_USER}:${UP_PASSWORD}`, '--preserve-digests', `oci:${img.layout.dir}:v1`, `docker://${up.directHost}/${repo}:v1`]);
    return img;
  }
  const pullToLayout = async (ref: string) => {
    const out = join(tempDir('pulled'), 'layout');
    await c.skopeo(['copy', '--src-tls-verify=false', `docker://${ref}`, `oci:${out}:v1`], { timeoutMs: 240_000 });
    return out;
  };

  it('skopeo copy through the cache: the upstream digests; then podman pull reads nothing from the upstream', async () => {
    assertClients('skopeo', 'podman');
    const repo = uniqueRepo('proxy-pull');
    const img = await pushUpstream(repo);
    const out = await timed(SUITE, 'skopeo copy (miss)', () => pullToLayout(`${mirror.host}/${repo}:v1`));
    expect(await expectSameImage(img.layout.dir, 'v1', out, 'v1')).toBe(4); // manifest + config + 2 layers
    const seen = up.requests.length;
    expect(up.requests.filter((r) => r.includes(repo)).length).toBeGreaterThan(0);
    const again = await timed(SUITE, 'skopeo copy (hit)', () => pullToLayout(`${mirror.host}/${repo}:v1`));
    expect(await expectSameImage(img.layout.dir, 'v1', again, 'v1')).toBe(4);
    await timed(SUITE, 'podman pull (hit)', () => c.podman(['pull', '--tls-verify=false', `${mirror.host}/${repo}:v1`]));
    const digest = (await c.podman(['image', 'inspect', '--format', '{{.Digest}}', `${mirror.host}/${repo}:v1`])).stdout.trim();
    expect(digest).toBe(img.manifest.digest);
    expect(up.requests.slice(seen)).toEqual([]);
  }, T);

  it('upstream stopped: a cached tag (past its TTL, served stale) and its blobs still pull; an uncached tag fails fast', async () => {
    const repo = uniqueRepo('proxy-down');
    const img = await pushUpstream(repo);
    await pullToLayout(`${spaced.host}/up/${repo}:v1`);
    await up.stopFront();
    try {
      await new Promise((resolve) => setTimeout(resolve, 1200));
      const out = await timed(SUITE, 'skopeo copy, upstream down (stale)', () => pullToLayout(`${spaced.host}/up/${repo}:v1`));
      expect(await expectSameImage(img.layout.dir, 'v1', out, 'v1')).toBe(4);
      const head = await fetch(`${spaced.url}/v2/up/${repo}/manifests/v1`, { method: 'HEAD' });
      expect(head.headers.get('x-berth-cache')).toBe('stale');
      const started = Date.now();
      const miss = await c.skopeo(['inspect', '--tls-verify=false', '--retry-times', '0', `docker://${spaced.host}/up/${repo}:never`], { allowFail: true });
      expect(miss.code).not.toBe(0);
      expect(miss.stderr).toMatch(/503 Service Unavailable/); // containers/image does not print a 503's body
      expect(Date.now() - started).toBeLessThan(10_000);
      const body = await (await fetch(`${spaced.url}/v2/up/${repo}/manifests/never`)).json();
      expect(body.errors[0].code).toBe('UNAVAILABLE');
      expect(body.errors[0].message).toMatch(/^upstream registry http:\/\/127.0.0.1:\d+ is unreachable: ECONNREFUSED; up\/.+:never is not cached$/);
    } finally {
      await up.startFront();
    }
  }, T);

  it('upstream killed in the middle of a big blob: the client fails, nothing half-cached is served, a retry succeeds once it is back', async () => {
    const repo = uniqueRepo('proxy-kill');
    const img = await pushUpstream(repo, 1, 48 * 1024 * 1024);
    const layer = img.layers[0]!.desc;
    up.killDuringNextBlob(8 * 1024 * 1024);
    try {
      const killed = await timed(SUITE, 'skopeo copy, upstream killed mid-blob', () =>
        c.skopeo(['copy', '--src-tls-verify=false', '--retry-times', '0', `docker://${spaced.host}/up/${repo}:v1`, `oci:${join(tempDir('killed'), 'l')}:v1`], { allowFail: true, timeoutMs: 120_000 }));
      expect(killed.code).not.toBe(0);
      // The upstream is dead: the blob must not be served from a partial copy.
      const blob = await fetch(`${spaced.url}/v2/up/${repo}/blobs/${layer.digest}`);
      expect(blob.status).toBe(503);
      await blob.body?.cancel();
      await up.startDistribution();
      const out = await timed(SUITE, 'skopeo copy, retry after restart', () => pullToLayout(`${spaced.host}/up/${repo}:v1`));
      expect(await expectSameImage(img.layout.dir, 'v1', out, 'v1')).toBe(3);
    } finally {
      await up.startDistribution(); // for the tests after this one, whatever happened here
    }
  }, T);

  it.skipIf(!which('dockerd') && process.env.REQUIRE_CLIENTS !== '1')('docker with registry-mirrors pulls busybox (the upstream holds library/busybox)', async () => {
    assertClients('docker', 'dockerd');
    const img = await pushUpstream('library/busybox');
    const d = await timed(SUITE, 'start dockerd (registry-mirrors)', () => startDockerd('dockerd-mirror', { 'registry-mirrors': [mirror.url] }));
    try {
      const pull = await timed(SUITE, 'docker pull busybox via the mirror', () => d.docker(['pull', 'busybox:v1'], { timeoutMs: 240_000 }));
      expect(pull.stdout).toContain(`Digest: ${img.manifest.digest}`);
      const digests = (await d.docker(['image', 'inspect', '--format', '{{json .RepoDigests}}', 'busybox:v1'])).stdout;
      expect(JSON.parse(digests)).toContain(`busybox@${img.manifest.digest}`);
    } finally {
      await d.stop();
    }
  }, T);

  it.skipIf(!which('ctr') && process.env.REQUIRE_CLIENTS !== '1')('containerd with a hosts.toml mirror sends ?ns=docker.io and pulls docker.io/<name> through the cache', async () => {
    assertClients('ctr', 'containerd');
    const repo = uniqueRepo('proxy-ctr');
    const img = await pushUpstream(repo);
    const hosts = tempDir('hosts');
    mkdirSync(join(hosts, 'docker.io'));
    writeFileSync(join(hosts, 'docker.io', 'hosts.toml'), `server = "https://registry-1.docker.io"\n\n[host."${spaced.url}"]\n  capabilities = ["pull", "resolve"]\n`);
    const ctrd = await timed(SUITE, 'start containerd', () => startContainerd());
    try {
      const name = `docker.io/${repo}:v1`;
      await timed(SUITE, 'ctr images pull --hosts-dir (mirror)', () => ctrd.ctr(['images', 'pull', '--hosts-dir', hosts, '--snapshotter', 'native', name], { timeoutMs: 240_000 }));
      const line = (await ctrd.ctr(['images', 'ls'])).stdout.split('\n').find((l) => l.split(/\s+/)[0] === name);
      expect(line?.split(/\s+/)[2]).toBe(img.manifest.digest);
      expect(spaced.daemon.logs.some((l) => l.includes(`/v2/${repo}/manifests/v1?ns=docker.io`))).toBe(true);
    } finally {
      await ctrd.stop();
    }
  }, T);

  it('Berth as the upstream, with its token auth (htpasswd): skopeo pulls through the cache with the upstream digests', async () => {
    const htpasswd = join(tempDir('upstream-berth'), 'htpasswd');
    writeFileSync(htpasswd, `${UP_USER}:${bcrypt.hashSync(UP_PASSWORD, 10)}\n`);
    const upstreamBerth = await startBerth('--htpasswd', htpasswd);
    const cache = await startBerth('--upstream', upstreamBerth.url.replace('http://', `http://${UP_USER}:${UP_PASSWORD}@`));
    try {
      const repo = uniqueRepo('proxy-berth');
      const img = await randomImageLayout(tempDir('layout'), 'v1', 2, 200_000);
      const env = containersEnv('proxy-berth', [upstreamBerth.host, cache.host]);
      await env.skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', `${UP_USER}:${UP_PASSWORD}`, '--preserve-digests', `oci:${img.layout.dir}:v1`, `docker://${upstreamBerth.host}/${repo}:v1`]);
      const out = join(tempDir('pulled'), 'layout');
      await timed(SUITE, 'skopeo copy through a cache of a token-auth Berth', () =>
        env.skopeo(['copy', '--src-tls-verify=false', `docker://${cache.host}/${repo}:v1`, `oci:${out}:v1`]));
      expect(await expectSameImage(img.layout.dir, 'v1', out, 'v1')).toBe(4);
      expect(upstreamBerth.daemon.logs.some((l) => /GET \/auth\/token\S* 200/.test(l))).toBe(true);
      expect(cache.daemon.logs.filter((l) => l.includes(UP_PASSWORD))).toEqual([]);
    } finally {
      await cache.daemon.stop();
      await upstreamBerth.daemon.stop();
    }
  }, T);

  it('the upstream password appears in no log line of either cache', async () => {
    // Requests that make both caches authenticate at the upstream (a tag it does not have).
    for (const url of [`${mirror.url}/v2/e2e/nothing/manifests/v1`, `${spaced.url}/v2/up/e2e/nothing/manifests/v1`]) {
      const res = await fetch(url);
      expect(res.status).toBe(404);
      await res.body?.cancel();
    }
    const logs = [...mirror.daemon.logs, ...spaced.daemon.logs];
    expect(logs.some((l) => l.includes('/v2/'))).toBe(true); // the access logs were captured
    expect(logs.filter((l) => l.includes(UP_PASSWORD))).toEqual([]);
  });
});
