// Basic auth with an htpasswd file (bcrypt from bcryptjs): podman and docker
// login with right and wrong passwords, pushes without credentials -> 401, and
// with anonymous pull on: pulls work logged out, pushes do not.
// Always starts its own servers (BERTH_E2E_RUNTIME, default node), even when
// BERTH_E2E_URL is set, because auth is a server start-up option.
import bcrypt from 'bcryptjs';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertClients, printSummary, skipWithout, timed } from './lib/clients.ts';
import { containersEnv, type ContainersEnv } from './lib/containers-env.ts';
import { startDockerd, type Dockerd } from './lib/dockerd.ts';
import { randomImageLayout } from './lib/oci-layout.ts';
import { RegistryApi, uniqueRepo } from './lib/registry-api.ts';
import { formatKiB } from './lib/suite.ts';
import { removeTempDirs, tempDir } from './lib/tmp.ts';
import { lacks, startServer, type RunningServer } from './servers.ts';

const SUITE = 'auth';
const T = 300_000;
const USER = 'e2e-user';
const PASSWORD = 'correct horse battery staple';
const DENIED = /401|unauthorized|authentication required|invalid username\/password/i;

const itWith = (...bins: string[]) => it.skipIf(skipWithout(...bins));

describe('auth (htpasswd)', () => {
  let locked: RunningServer;
  let anon: RunningServer | undefined;
  let dockerd: Dockerd | undefined;
  const extra: Record<string, string> = {};
  const c = (name: string, s: RunningServer): ContainersEnv => containersEnv(name, [s.host]);
  const docker = async () => (dockerd ??= await startDockerd('dockerd-auth'));

  beforeAll(async () => {
    const htpasswd = join(tempDir('htpasswd'), 'htpasswd');
    writeFileSync(htpasswd, `${USER}:${bcrypt.hashSync(PASSWORD, 10)}\n`);
    locked = await startServer({ htpasswdFile: htpasswd });
    if (!lacks(locked, 'anonymous-pull')) anon = await startServer({ htpasswdFile: htpasswd, anonymousPull: true });
  }, 120_000);
  afterAll(async () => {
    extra['locked server peak RSS (VmHWM)'] = formatKiB(locked?.peakRssKiB());
    await printSummary(SUITE, ['skopeo', 'podman', 'docker', 'dockerd'], extra);
    await dockerd?.stop();
    await locked?.stop();
    await anon?.stop();
    removeTempDirs();
  }, 120_000);

  /** A fresh random image in an OCI layout, pushed with credentials by skopeo. */
  async function pushWithCreds(s: RunningServer, repo: string) {
    const img = await randomImageLayout(tempDir('auth-layout'), 'v1', 1);
    await c('auth-push', s).skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', `${USER}:${PASSWORD}`,
      `oci:${img.layout.dir}:v1`, `docker://${s.host}/${repo}:v1`]);
    return img;
  }

  it('GET /v2/ and POST /v2/<name>/blobs/uploads/ without credentials -> 401 with a Basic challenge', async () => {
    const api = new RegistryApi(locked.url);
    for (const [path, method] of [['/v2/', 'GET'], [`/v2/${uniqueRepo('raw')}/blobs/uploads/`, 'POST']] as const) {
      const r = await api.request(path, { method });
      expect(r.status, `${method} ${path}`).toBe(401);
      expect(r.headers.get('www-authenticate')).toMatch(/^Basic realm=/i);
    }
    const wrong = new RegistryApi(locked.url, { user: USER, password: 'wrong' });
    expect((await wrong.request('/v2/')).status).toBe(401);
    const right = new RegistryApi(locked.url, { user: USER, password: PASSWORD });
    expect((await right.request('/v2/')).status).toBe(200);
  });

  itWith('podman')('podman login succeeds with the right password and fails with a wrong one', async () => {
    assertClients('podman');
    const p = c('podman-login', locked);
    const bad = await p.podman(['login', '--tls-verify=false', '-u', USER, '--password-stdin', locked.host],
      { input: 'not-the-password\n', allowFail: true });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(DENIED);
    const good = await timed(SUITE, 'podman login', () => p.podman(['login', '--tls-verify=false', '-u', USER,
      '--password-stdin', locked.host], { input: `${PASSWORD}\n` }));
    expect(good.stdout).toMatch(/Login Succeeded/i);
  }, T);

  itWith('skopeo')('skopeo push without credentials fails with 401; with --dest-creds it succeeds', async () => {
    assertClients('skopeo');
    const repo = uniqueRepo('auth-push');
    const img = await randomImageLayout(tempDir('auth-layout'), 'v1', 1);
    const s = c('skopeo-noauth', locked);
    const dest = `docker://${locked.host}/${repo}:v1`;
    const denied = await s.skopeo(['copy', '--dest-tls-verify=false', `oci:${img.layout.dir}:v1`, dest], { allowFail: true });
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toMatch(DENIED);
    await timed(SUITE, 'skopeo push with credentials', () =>
      s.skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', `${USER}:${PASSWORD}`, `oci:${img.layout.dir}:v1`, dest]));
    const api = new RegistryApi(locked.url, { user: USER, password: PASSWORD });
    expect((await api.manifest(repo, 'v1')).headers.get('docker-content-digest')).toBe(img.manifest.digest);
    const pull = await s.skopeo(['inspect', '--raw', '--tls-verify=false', dest], { allowFail: true });
    expect(pull.code, 'pull without credentials and without anonymous pull').not.toBe(0);
    expect(pull.stderr).toMatch(DENIED);
  }, T);

  itWith('docker', 'dockerd')('docker login succeeds with the right password and fails with a wrong one; push needs it', async () => {
    assertClients('docker', 'dockerd');
    const d = await docker();
    const ref = `${locked.host}/${uniqueRepo('docker-auth')}:v1`;
    await d.buildScratch(ref);
    const anonymousPush = await d.docker(['push', ref], { allowFail: true });
    expect(anonymousPush.code).not.toBe(0);
    expect(anonymousPush.stderr + anonymousPush.stdout).toMatch(/no basic auth credentials|unauthorized|401/i);
    const bad = await d.docker(['login', '-u', USER, '--password-stdin', locked.host], { input: 'wrong\n', allowFail: true });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(DENIED);
    const good = await timed(SUITE, 'docker login', () =>
      d.docker(['login', '-u', USER, '--password-stdin', locked.host], { input: `${PASSWORD}\n` }));
    expect(good.stdout).toMatch(/Login Succeeded/i);
    await timed(SUITE, 'docker push after login', () => d.push(ref));
    await d.docker(['logout', locked.host]);
  }, T);

  describe('with anonymous pull', () => {
    const skipAnon = (skip: (note?: string) => never) => {
      if (anon) return;
      console.warn(`[e2e] ${locked.runtime} has no anonymous pull with htpasswd; case skipped`);
      skip(`${locked.runtime} has no anonymous pull`);
    };

    itWith('skopeo', 'podman')('skopeo and podman pull logged out; skopeo push logged out -> 401', async ({ skip }) => {
      assertClients('skopeo', 'podman');
      skipAnon(skip);
      const repo = uniqueRepo('anon');
      const img = await pushWithCreds(anon!, repo);
      const s = c('anon-pull', anon!);
      const raw = await timed(SUITE, 'skopeo inspect logged out', () =>
        s.skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${anon!.host}/${repo}:v1`]));
      expect(JSON.parse(raw.stdout).layers[0].digest).toBe(img.layers[0]!.desc.digest);
      await timed(SUITE, 'podman pull logged out', () => s.podman(['pull', '--quiet', '--tls-verify=false', `${anon!.host}/${repo}:v1`]));
      const other = await randomImageLayout(tempDir('anon-layout'), 'v1', 1);
      const push = await s.skopeo(['copy', '--dest-tls-verify=false', `oci:${other.layout.dir}:v1`,
        `docker://${anon!.host}/${repo}:v2`], { allowFail: true });
      expect(push.code).not.toBe(0);
      expect(push.stderr).toMatch(DENIED);
      const api = new RegistryApi(anon!.url);
      expect((await api.manifest(repo, 'v1')).status).toBe(200);
      expect((await api.request(`/v2/${repo}/blobs/uploads/`, { method: 'POST' })).status).toBe(401);
      expect((await api.manifest(repo, 'v2')).status).toBe(404);
    }, T);

    itWith('docker', 'dockerd')('docker push logged out to an anonymous-pull registry fails', async ({ skip }) => {
      assertClients('docker', 'dockerd');
      skipAnon(skip);
      const d = await docker();
      const ref = `${anon!.host}/${uniqueRepo('anon-docker-push')}:v1`;
      await d.buildScratch(ref);
      const push = await d.docker(['push', ref], { allowFail: true });
      expect(push.code).not.toBe(0);
      expect(push.stderr + push.stdout).toMatch(/no basic auth credentials|unauthorized|401/i);
    }, T);

    // dockerd sends no request without credentials once GET /v2/ answered with a
    // Basic challenge ("no basic auth credentials"); answering 200 instead makes
    // `docker login` accept any password and docker push never send credentials.
    // So docker can pull anonymously only from a registry with Bearer token auth.
    itWith('docker', 'dockerd')('docker pull logged out from an anonymous-pull registry: works with Bearer auth, fails as documented with Basic', async ({ skip }) => {
      assertClients('docker', 'dockerd');
      skipAnon(skip);
      const challenge = (await new RegistryApi(anon!.url).request('/v2/')).headers.get('www-authenticate') ?? '';
      const repo = uniqueRepo('anon-docker');
      const img = await pushWithCreds(anon!, repo);
      const d = await docker();
      const pull = await timed(SUITE, 'docker pull logged out', () => d.docker(['pull', `${anon!.host}/${repo}:v1`], { allowFail: true }));
      if (/^Basic/i.test(challenge)) {
        // The README's documented limitation: pin it, so a change in either direction shows.
        expect(pull.code).not.toBe(0);
        expect(pull.stderr + pull.stdout).toMatch(/no basic auth credentials/i);
      } else {
        expect(pull.stdout).toContain(`Digest: ${img.manifest.digest}`);
      }
    }, T);
  });
});
