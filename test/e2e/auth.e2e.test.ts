// Token auth with real clients: htpasswd users, the policy plus a `team` group, and
// Berth's own token endpoint. docker pulls public/ logged out, cannot push until `docker
// login`, pushes after it, and is anonymous again after `docker logout`; podman, skopeo,
// buildah and containerd (`ctr --user`) do the same; a team/** user cannot push to other/.
// Always starts its own server (BERTH_E2E_RUNTIME, default node): auth is a start-up option.
import bcrypt from 'bcryptjs';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertClients, printSummary, skipWithout, timed } from './lib/clients.ts';
import { startContainerd, type Containerd } from './lib/containerd.ts';
import { containersEnv, type ContainersEnv } from './lib/containers-env.ts';
import { startDockerd, type Dockerd } from './lib/dockerd.ts';
import { buildScratchImage } from './lib/buildah.ts';
import { randomImageLayout } from './lib/oci-layout.ts';
import { RegistryApi, uniqueRepo } from './lib/registry-api.ts';
import { removeTempDirs, tempDir } from './lib/tmp.ts';
import { startServer, type RunningServer } from './servers.ts';

const SUITE = 'auth';
const T = 300_000;
const PW = { alice: 'alice horse battery', tom: 'tom staple correct', bob: 'bob pw 12345' } as const;
const POLICY = `groups:
  admins: [alice]
  team: [tom]
rules:
  - repositories: ["public/**"]
    anonymous: true
    actions: [pull]
  - repositories: ["public/**", "team/**"]
    groups: [admins]
    actions: [pull, push, delete]
  - repositories: ["team/**"]
    groups: [team]
    actions: [pull, push]
  - repositories: ["**"]
    users: ["*"]
    actions: [pull]
`;
const UNAUTHORIZED = /unauthorized|authentication required|401/i;
const DENIED = /denied|403/i;

const itWith = (...bins: string[]) => it.skipIf(skipWithout(...bins));

describe('auth (Bearer tokens, policy)', () => {
  let s: RunningServer;
  let dockerd: Dockerd | undefined;
  let containerd: Containerd | undefined;
  const c = (name: string): ContainersEnv => containersEnv(name, [s.host]);
  const docker = async () => (dockerd ??= await startDockerd('dockerd-auth'));
  const repo = (prefix: 'public' | 'team' | 'other', what: string) => `${prefix}/${uniqueRepo(what)}`;

  beforeAll(async () => {
    const dir = tempDir('auth-files');
    writeFileSync(join(dir, 'htpasswd'), Object.entries(PW).map(([u, p]) => `${u}:${bcrypt.hashSync(p, 10)}`).join('\n') + '\n');
    writeFileSync(join(dir, 'policy.yaml'), POLICY);
    s = await startServer({ htpasswdFile: join(dir, 'htpasswd'), policyFile: join(dir, 'policy.yaml') });
  }, 120_000);
  afterAll(async () => {
    await printSummary(SUITE, ['skopeo', 'podman', 'buildah', 'docker', 'dockerd', 'ctr', 'containerd']);
    await dockerd?.stop();
    await containerd?.stop();
    await s?.stop();
    removeTempDirs();
  }, 120_000);

  /** A fresh random image pushed by skopeo as `user`. */
  async function pushAs(user: keyof typeof PW, name: string) {
    const img = await randomImageLayout(tempDir('auth-layout'), 'v1', 1);
    await c('auth-seed').skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', `${user}:${PW[user]}`,
      `oci:${img.layout.dir}:v1`, `docker://${s.host}/${name}:v1`]);
    return img;
  }

  it('GET /v2/ -> 401 with a Bearer challenge at <origin>/auth/token', async () => {
    const r = await new RegistryApi(s.url).request('/v2/');
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toBe(`Bearer realm="${s.url}/auth/token",service="berth"`);
  });

  itWith('docker', 'dockerd', 'skopeo')('docker: pull public/ logged out; push needs login; login, push; logout -> anonymous again', async () => {
    assertClients('docker', 'dockerd', 'skopeo');
    const d = await docker();
    const pub = repo('public', 'docker-pub');
    const img = await pushAs('alice', pub);
    const pull = await timed(SUITE, 'docker pull logged out', () => d.docker(['pull', `${s.host}/${pub}:v1`]));
    expect(pull.stdout).toContain(`Digest: ${img.manifest.digest}`);

    const ref = `${s.host}/${repo('public', 'docker-push')}:v1`;
    await d.buildScratch(ref);
    const anonymous = await d.docker(['push', ref], { allowFail: true });
    expect(anonymous.code).not.toBe(0);
    // An anonymous token lacks push: 401 insufficient_scope, which dockerd reports as "denied".
    expect(anonymous.stderr + anonymous.stdout).toContain('denied: requested access to the resource is denied');

    const bad = await d.docker(['login', '-u', 'alice', '--password-stdin', s.host], { input: 'wrong\n', allowFail: true });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('incorrect username or password');
    const good = await timed(SUITE, 'docker login', () => d.docker(['login', '-u', 'alice', '--password-stdin', s.host], { input: `${PW.alice}\n` }));
    expect(good.stdout).toMatch(/Login Succeeded/i);
    // docker keeps the refresh token, not the password.
    const saved = JSON.parse(readFileSync(join(d.dir, 'cfg', 'config.json'), 'utf8')).auths[s.host];
    expect(saved.identitytoken).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(Buffer.from(saved.auth, 'base64').toString()).toBe('alice:');
    await timed(SUITE, 'docker push after login', () => d.push(ref));

    await d.docker(['logout', s.host]);
    await d.docker(['rmi', `${s.host}/${pub}:v1`]);
    expect((await d.docker(['pull', `${s.host}/${pub}:v1`])).stdout).toContain(img.manifest.digest);
    const ref2 = `${s.host}/${repo('public', 'docker-push2')}:v1`;
    await d.buildScratch(ref2);
    const again = await d.docker(['push', ref2], { allowFail: true });
    expect(again.code, 'push after logout').not.toBe(0);
    expect(again.stderr + again.stdout).toContain('denied: requested access to the resource is denied');
  }, T);

  itWith('docker', 'dockerd')('docker: a team/** user pushes team/, is denied other/', async () => {
    assertClients('docker', 'dockerd');
    const d = await docker();
    await d.docker(['login', '-u', 'tom', '--password-stdin', s.host], { input: `${PW.tom}\n` });
    const mine = `${s.host}/${repo('team', 'docker-tom')}:v1`;
    await d.buildScratch(mine);
    await d.push(mine);
    const theirs = `${s.host}/${repo('other', 'docker-tom')}:v1`;
    await d.buildScratch(theirs);
    const denied = await d.docker(['push', theirs], { allowFail: true });
    expect(denied.code).not.toBe(0);
    expect(denied.stderr + denied.stdout).toMatch(DENIED);
    await d.docker(['logout', s.host]);
  }, T);

  itWith('podman', 'skopeo')('podman: wrong password fails; login tom; push team/ ok, other/ denied; logout; pull public/ anonymously', async () => {
    assertClients('podman', 'skopeo');
    const p = c('podman-auth');
    const bad = await p.podman(['login', '--tls-verify=false', '-u', 'tom', '--password-stdin', s.host], { input: 'nope\n', allowFail: true });
    expect(bad.code).not.toBe(0);
    await timed(SUITE, 'podman login', () => p.podman(['login', '--tls-verify=false', '-u', 'tom', '--password-stdin', s.host], { input: `${PW.tom}\n` }));
    const pub = repo('public', 'podman-pub');
    const img = await pushAs('alice', pub);
    await p.podman(['pull', '--quiet', '--tls-verify=false', `${s.host}/${pub}:v1`]);
    const mine = `${s.host}/${repo('team', 'podman')}:v1`;
    await p.podman(['tag', `${s.host}/${pub}:v1`, mine]);
    await timed(SUITE, 'podman push team/', () => p.podman(['push', '--tls-verify=false', mine]));
    const theirs = `${s.host}/${repo('other', 'podman')}:v1`;
    await p.podman(['tag', `${s.host}/${pub}:v1`, theirs]);
    const denied = await p.podman(['push', '--tls-verify=false', theirs], { allowFail: true });
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toMatch(DENIED);
    await p.podman(['logout', s.host]);
    await p.podman(['rmi', `${s.host}/${pub}:v1`]);
    await p.podman(['pull', '--quiet', '--tls-verify=false', `${s.host}/${pub}:v1`]);
    const inspected = await p.skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${s.host}/${pub}:v1`]);
    expect(JSON.parse(inspected.stdout).layers[0].digest).toBe(img.layers[0]!.desc.digest);
  }, T);

  itWith('skopeo')('skopeo: push logged out fails; tom to other/ denied; anonymous inspect of team/ fails; alice deletes', async () => {
    assertClients('skopeo');
    const k = c('skopeo-auth');
    const img = await randomImageLayout(tempDir('auth-layout'), 'v1', 1);
    const src = `oci:${img.layout.dir}:v1`;
    const pub = `docker://${s.host}/${repo('public', 'skopeo')}:v1`;
    const anonymous = await k.skopeo(['copy', '--dest-tls-verify=false', src, pub], { allowFail: true });
    expect(anonymous.code).not.toBe(0);
    expect(anonymous.stderr).toMatch(UNAUTHORIZED);
    const other = await k.skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', `tom:${PW.tom}`, src, `docker://${s.host}/${repo('other', 'skopeo')}:v1`], { allowFail: true });
    expect(other.code).not.toBe(0);
    expect(other.stderr).toMatch(DENIED);
    const team = repo('team', 'skopeo');
    await timed(SUITE, 'skopeo copy as tom', () => k.skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', `tom:${PW.tom}`, src, `docker://${s.host}/${team}:v1`]));
    const peek = await k.skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${s.host}/${team}:v1`], { allowFail: true });
    expect(peek.code, 'anonymous inspect of team/').not.toBe(0);
    expect((await k.skopeo(['inspect', '--raw', '--tls-verify=false', '--creds', `bob:${PW.bob}`, `docker://${s.host}/${team}:v1`])).stdout).toContain(img.layers[0]!.desc.digest);
    const tomDelete = await k.skopeo(['delete', '--tls-verify=false', '--creds', `tom:${PW.tom}`, `docker://${s.host}/${team}:v1`], { allowFail: true });
    expect(tomDelete.code, 'tom has no delete').not.toBe(0);
    await k.skopeo(['delete', '--tls-verify=false', '--creds', `alice:${PW.alice}`, `docker://${s.host}/${team}:v1`]);
    const api = new RegistryApi(s.url, { user: 'alice', password: PW.alice });
    expect((await api.manifest(team, 'v1')).status).toBe(404);
  }, T);

  itWith('buildah')('buildah: push with --creds to team/ ok, to other/ denied', async () => {
    assertClients('buildah');
    const b = c('buildah-auth');
    const image = await buildScratchImage(b, uniqueRepo('buildah-auth').replace(/\//g, '-'));
    const mine = `${s.host}/${repo('team', 'buildah')}:v1`;
    await timed(SUITE, 'buildah push team/', () => b.buildah(['push', '--tls-verify=false', '--creds', `tom:${PW.tom}`, image, `docker://${mine}`]));
    const denied = await b.buildah(['push', '--tls-verify=false', '--creds', `tom:${PW.tom}`, image, `docker://${s.host}/${repo('other', 'buildah')}:v1`], { allowFail: true });
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toMatch(DENIED);
  }, T);

  itWith('ctr', 'containerd')('containerd: ctr --user pushes team/ (POST /auth/token), pulls public/ anonymously, is denied other/', async () => {
    assertClients('ctr', 'containerd');
    containerd ??= await startContainerd();
    const ctr = containerd;
    const team = repo('team', 'ctr');
    const img = await randomImageLayout(tempDir('ctr-layout'), 'v1', 1);
    await ctr.importLayout(img.layout.dir, `${s.host}/${team}`);
    await timed(SUITE, 'ctr push --user', () => ctr.ctr(['images', 'push', '--plain-http', '--user', `tom:${PW.tom}`, `${s.host}/${team}:v1`]));
    const api = new RegistryApi(s.url, { user: 'tom', password: PW.tom });
    expect((await api.manifest(team, 'v1')).headers.get('docker-content-digest')).toBe(img.manifest.digest);
    const other = `${s.host}/${repo('other', 'ctr')}`;
    await ctr.importLayout(img.layout.dir, other);
    const denied = await ctr.ctr(['images', 'push', '--plain-http', '--user', `tom:${PW.tom}`, `${other}:v1`], { allowFail: true });
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toMatch(/403|denied/i);
    const pub = repo('public', 'ctr');
    const seeded = await pushAs('alice', pub);
    await timed(SUITE, 'ctr pull anonymous', () => ctr.ctr(['images', 'pull', '--plain-http', '--snapshotter', 'native', `${s.host}/${pub}:v1`]));
    const ls = (await ctr.ctr(['images', 'ls'])).stdout;
    expect(ls).toContain(seeded.manifest.digest);
  }, T);
});
