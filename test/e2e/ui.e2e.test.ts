// The web UI in a real browser (Debian's chromium via playwright-core) against Berth on Node,
// Deno and Workers (BERTH_UI_RUNTIMES=node,deno,worker picks some): images pushed over the
// HTTP API (a two-platform index, an image with a signature referrer), browsing to the tag,
// platforms, layers and the referrer, copying the pull command, deleting a tag through the
// confirmation dialog and seeing it gone from the API; sign-in; a read-only user gets no
// delete button and a direct delete is denied. On Node it also takes the README's screenshots
// (into a temp folder; with BERTH_UI_SCREENSHOTS=1 into docs/ui/, to refresh them) and times
// the repository page with 10,000 tags.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import bcrypt from 'bcryptjs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from './servers.ts';
import { launchBrowser, CHROMIUM, type Browser } from './lib/browser.ts';
import { assertClients, REQUIRE_CLIENTS } from './lib/clients.ts';
import { tempDir, removeTempDirs } from './lib/tmp.ts';
import { Pusher, randomLayer } from './lib/ui-images.ts';
import { existsSync } from 'node:fs';
import { FsStore } from '../../runtimes/node/index.ts';
import { catalogKey, tagKey } from '../../src/paths.ts';
import { readBytes } from '../../src/streams.ts';

// All three by default; a run for one runtime (BERTH_E2E_RUNTIME=deno) covers that one. The
// reference registry has no UI.
// The Worker on plain HTTP here: this suite is about the UI (the Worker's local HTTPS, with its
// test CA, is covered by the TLS and skopeo suites); chromium and this file's own fetches would
// otherwise each need that CA. Each test file runs in its own process, so this does not leak.
process.env.BERTH_E2E_WORKER_PROTOCOL ??= 'http';
const RUNTIMES = (process.env.BERTH_UI_RUNTIMES ?? process.env.BERTH_E2E_RUNTIME ?? 'node,deno,worker').split(',').filter((r) => r && r !== 'distribution');
// A test run must not rewrite tracked files; refreshing the README's pictures is asked for.
const DOCS = process.env.BERTH_UI_SCREENSHOTS === '1' ? fileURLToPath(new URL('../../docs/ui/', import.meta.url)) : tempDir('ui-screenshots') + '/';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM && !REQUIRE_CLIENTS) console.warn(`[e2e] SKIP: ${CHROMIUM} not installed (set REQUIRE_CLIENTS=1 to fail instead)`);

const basic = (user: string, password: string) => 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
const ALICE = basic('alice', 'al1ce-pw');

function htpasswdFile(): string {
  const file = join(tempDir('ui-htpasswd'), 'htpasswd');
  writeFileSync(file, `alice:${bcrypt.hashSync('al1ce-pw', 4)}\nreader:${bcrypt.hashSync('r3ader-pw', 4)}\n`);
  return file;
}

async function signIn(page: Page, user: string, password: string) {
  await page.getByRole('button', { name: 'Sign in' }).first().click();
  await page.locator('dialog.sign-in input[name=username]').fill(user);
  await page.locator('dialog.sign-in input[name=password]').fill(password);
  await page.locator('dialog.sign-in button[type=submit]').click();
  await page.locator(`[data-user="${user}"]`).waitFor();
}

/** Wait for the view the address names to be on screen. */
const shown = (page: Page, selector: string) => page.locator(`#main .view ${selector}`).first().waitFor();

describe.skipIf(!HAVE_CHROMIUM && !REQUIRE_CLIENTS)('web UI in chromium', () => {
  beforeEach(() => assertClients(CHROMIUM.split('/').pop()!));
  afterAll(() => removeTempDirs());

  for (const runtime of RUNTIMES) {
    describe(`on ${runtime}, with htpasswd (alice writes, reader is read-only)`, () => {
      let server: RunningServer;
      let browser: Browser;
      let page: Page;
      const pushed: Record<string, { digest: string }> = {};
      let bearerRequests = 0;
      const otherAuthorization: string[] = [];

      beforeAll(async () => {
        if (!HAVE_CHROMIUM) return;
        server = await startServer({ runtime, htpasswdFile: htpasswdFile(), env: { BERTH_READ_ONLY_USERS: 'reader', BERTH_ACCESS_LOG: 'false' } });
        const push = new Pusher(server.url, ALICE);
        pushed.index = await push.multiArch('library/hello', 'latest');
        const base = randomLayer(64 * 1024);
        pushed.app = await push.image('tools/app', '1.0', undefined, [base, randomLayer(8 * 1024)]);
        pushed.app11 = await push.image('tools/app', '1.1', undefined, [base, randomLayer(12 * 1024)]);
        pushed.signature = await push.signature('tools/app', { mediaType: 'application/vnd.oci.image.manifest.v1+json', ...pushed.app } as never);
        await push.image('tools/builder', 'stable');
        await push.image('alpine', '3.20');
        browser = await launchBrowser();
        page = await browser.context.newPage();
        page.on('pageerror', (error) => console.error(`[e2e] page error: ${error.message}`));
        // The token flow: after sign-in the page sends tokens, never the password.
        page.on('request', (request) => {
          const header = request.headers().authorization ?? '';
          if (header.startsWith('Bearer ')) bearerRequests++;
          else if (header) otherAuthorization.push(`${request.method()} ${request.url()}: ${header.split(' ')[0]}`);
        });
      }, 300_000);
      afterAll(async () => {
        await browser?.close();
        await server?.stop();
      }, 60_000);

      it('anonymous: GET / shows no repositories and a sign-in button; signing in shows them all', async () => {
        await page.goto(server.url + '/');
        await shown(page, 'p.notice');
        expect(await page.locator('#main').innerText()).toContain('Sign in to see private repositories');
        expect(await page.locator('[data-repository]').count()).toBe(0);
        await signIn(page, 'alice', 'al1ce-pw');
        await shown(page, '[data-repository]');
        expect(await page.locator('[data-repository]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-repository'))))
          .toEqual(['alpine', 'library/hello', 'tools/app', 'tools/builder']);
        expect(await page.locator('tr.group th').allInnerTexts()).toEqual(['(top level)', 'library/', 'tools/']);
        if (runtime === 'node') await page.screenshot({ path: DOCS + 'repositories.png' });
        // the filter narrows the list and lands in the address
        await page.getByRole('searchbox').fill('tools');
        await page.waitForURL(/\?q=tools$/);
        await page.waitForFunction(() => document.querySelectorAll('[data-repository]').length === 2);
      });

      it('a multi-arch tag: its platforms on the repository page and the manifest page; back works', async () => {
        await page.getByRole('searchbox').fill('');
        await page.getByRole('link', { name: 'library/hello' }).click();
        await page.waitForURL(/\/ui\/r\/library\/hello$/);
        await shown(page, 'tr[data-tag=latest]');
        expect(await page.locator('tr[data-tag=latest] .chip').allInnerTexts()).toEqual(['linux/amd64', 'linux/arm64/v8']);
        await page.getByRole('link', { name: 'latest', exact: true }).click();
        await page.waitForURL(/\/ui\/r\/library\/hello\/-\/latest$/);
        await shown(page, '[data-platform]');
        expect(await page.locator('[data-platform]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-platform')))).toEqual(['linux/amd64', 'linux/arm64/v8']);
        expect(await page.locator('dl.facts').innerText()).toContain(pushed.index!.digest);
        if (runtime === 'node') await page.screenshot({ path: DOCS + 'index.png' });
        await page.goBack();
        await page.waitForURL(/\/ui\/r\/library\/hello$/);
        await shown(page, 'tr[data-tag=latest]');
      });

      it('an image tag: config, layers with sizes, the signature referrer; the copied pull command', async () => {
        await page.goto(server.url + '/ui/r/tools/app');
        // A bookmarked address needs the sign-in again: credentials live in memory only.
        await shown(page, '.notice button');
        await signIn(page, 'alice', 'al1ce-pw');
        await shown(page, 'tr[data-tag="1.0"]');
        expect(await page.locator('tr[data-tag="1.0"] .shared').innerText()).toMatch(/kB shared/);
        if (runtime === 'node') await page.screenshot({ path: DOCS + 'repository.png' });
        await page.locator('tr[data-tag="1.0"] button.copy-pull').click();
        expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(`docker pull ${server.host}/tools/app:1.0`);
        await page.getByRole('button', { name: 'podman' }).click();
        expect(await page.locator('code.pull-command').innerText()).toBe(`podman pull ${server.host}/tools/app:1.0`);

        await page.getByRole('link', { name: '1.0', exact: true }).click();
        await shown(page, '[data-section=layers]');
        expect(await page.locator('[data-layer]').count()).toBe(2);
        expect(await page.locator('[data-section=layers] tr.total').innerText()).toMatch(/2 layers\s+\d+(\.\d+)? kB/);
        expect(await page.locator('dl.facts').innerText()).toMatch(/Entrypoint\s+\["\/bin\/hello"\]/);
        expect(await page.locator('[data-section=environment]').innerText()).toContain('GREETING=hello');
        expect(await page.locator('[data-section=history]').innerText()).toContain('COPY hello /bin/hello');
        const referrer = page.locator(`tr[data-referrer="${pushed.signature!.digest}"]`);
        expect(await referrer.innerText()).toContain('application/vnd.dev.cosign.artifact.sig.v1+json');
        if (runtime === 'node') {
          await page.setViewportSize({ width: 1100, height: 1000 });
          await page.screenshot({ path: DOCS + 'manifest.png' });
          await page.setViewportSize({ width: 1100, height: 720 });
        }
        await page.locator('[data-section="raw manifest"] summary').click();
        expect(JSON.parse(await page.locator('pre.raw').innerText()).layers).toHaveLength(2);
        // the referrer's digest is a link to its own page, whose subject links back
        await referrer.getByRole('link').click();
        await page.waitForURL(new RegExp(`/-/${pushed.signature!.digest}$`));
        // the address changes first; the new view replaces the old one when its data is in
        await page.locator('#main dl.facts', { hasText: pushed.signature!.digest }).waitFor();
        expect(await page.locator('dl.facts').innerText()).toContain('application/vnd.dev.cosign.artifact.sig.v1+json');
      });

      it('delete a tag: a confirmation dialog, then the tag is gone from the page and from GET /v2/<name>/tags/list', async () => {
        await page.goto(server.url + '/ui/r/tools/app');
        await signIn(page, 'alice', 'al1ce-pw');
        await shown(page, 'tr[data-tag="1.1"]');
        await page.locator('tr[data-tag="1.1"]').getByRole('button', { name: 'Delete' }).click();
        const dialog = page.locator('dialog.confirm');
        expect(await dialog.innerText()).toContain('tools/app:1.1');
        await dialog.getByRole('button', { name: 'Cancel' }).click();
        expect(await page.locator('tr[data-tag="1.1"]').count()).toBe(1);
        await page.locator('tr[data-tag="1.1"]').getByRole('button', { name: 'Delete' }).click();
        await dialog.getByRole('button', { name: 'Delete' }).click();
        await page.waitForFunction(() => !document.querySelector('tr[data-tag="1.1"]') && document.querySelector('tr[data-tag="1.0"]'));
        const res = await fetch(`${server.url}/v2/tools/app/tags/list`, { headers: { Authorization: ALICE } });
        expect((await res.json()).tags).not.toContain('1.1');
        expect((await fetch(`${server.url}/v2/tools/app/manifests/1.1`, { headers: { Authorization: ALICE } })).status).toBe(404);
      });

      it('read-only user: no delete buttons anywhere, and a direct DELETE is denied (403)', async () => {
        await page.getByRole('button', { name: 'Sign out' }).click();
        await signIn(page, 'reader', 'r3ader-pw');
        await shown(page, 'tr[data-tag="1.0"]');
        expect(await page.locator('button.danger').count()).toBe(0);
        await page.getByRole('link', { name: '1.0', exact: true }).click();
        await shown(page, '[data-section=layers]');
        expect(await page.locator('button.danger').count()).toBe(0);
        const direct = await fetch(`${server.url}/v2/tools/app/manifests/1.0`, { method: 'DELETE', headers: { Authorization: basic('reader', 'r3ader-pw') } });
        expect(direct.status).toBe(403);
        expect(await page.locator('[data-user=reader]').count()).toBe(1);
        // Signed in through the token flow, the page sent tokens and never a password.
        expect(bearerRequests).toBeGreaterThan(5);
        expect(otherAuthorization).toEqual([]);
      });

      it('a wrong password is refused in the form and nothing is shown', async () => {
        await page.goto(server.url + '/');
        await page.getByRole('button', { name: 'Sign in' }).first().click();
        await page.locator('dialog.sign-in input[name=username]').fill('alice');
        await page.locator('dialog.sign-in input[name=password]').fill('wrong');
        await page.locator('dialog.sign-in button[type=submit]').click();
        await page.locator('dialog.sign-in [role=alert]', { hasText: 'Wrong user name or password' }).waitFor();
        expect(page.url()).not.toContain('wrong'); // credentials never in the address
        expect(await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }))).not.toContain('wrong');
      });

      it.runIf(runtime === 'node')('on a phone in dark mode: the repository page fits the screen', async () => {
        const phone = await launchBrowser({ mobile: true, dark: true });
        try {
          const p = await phone.context.newPage();
          await p.goto(server.url + '/ui/r/tools/app');
          await signIn(p, 'alice', 'al1ce-pw');
          await p.locator('tr[data-tag="1.0"]').waitFor();
          expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
          expect(await p.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe('rgb(15, 18, 22)');
          await p.screenshot({ path: DOCS + 'phone-dark.png' });
        } finally {
          await phone.close();
        }
      });

    });
  }

  for (const runtime of RUNTIMES) {
    describe(`on ${runtime}, with a policy: public/** open to anonymous callers`, () => {
      let server: RunningServer;
      let browser: Browser;
      beforeAll(async () => {
        if (!HAVE_CHROMIUM) return;
        const policyFile = join(tempDir('ui-policy'), 'policy.yaml');
        writeFileSync(policyFile, [
          'rules:',
          '  - repositories: ["public/**"]', '    anonymous: true', '    actions: [pull]',
          '  - repositories: ["**"]', '    users: ["*"]', '    actions: [pull, push, delete]', '',
        ].join('\n'));
        server = await startServer({ runtime, htpasswdFile: htpasswdFile(), policyFile, env: { BERTH_ACCESS_LOG: 'false' } });
        const push = new Pusher(server.url, ALICE);
        await push.image('public/web', '1');
        await push.image('private/db', '1');
        browser = await launchBrowser();
      }, 300_000);
      afterAll(async () => {
        await browser?.close();
        await server?.stop();
      }, 60_000);

      it('anonymous sees only the public repository (page and API), no delete; signing in shows the private one', async () => {
        const page = await browser.context.newPage();
        await page.goto(server.url + '/');
        await shown(page, '[data-repository]');
        const listed = () => page.locator('[data-repository]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-repository')));
        expect(await listed()).toEqual(['public/web']);
        const api = await (await fetch(`${server.url}/api/ui/repositories`)).json();
        expect(api.repositories.map((r: { name: string }) => r.name)).toEqual(['public/web']);
        expect((await fetch(`${server.url}/api/ui/repositories/private/db/tags`)).status).toBe(401);
        await page.getByRole('link', { name: 'public/web' }).click();
        await shown(page, 'tr[data-tag="1"]');
        expect(await page.locator('button.danger').count()).toBe(0);
        await page.goto(server.url + '/ui/r/private/db');
        await shown(page, '.notice button');
        expect(await page.locator('#main').innerText()).toContain('Sign in to see this page');
        await signIn(page, 'alice', 'al1ce-pw');
        await shown(page, 'tr[data-tag="1"]');
        expect(await page.locator('tr[data-tag="1"] button.danger').count()).toBe(1);
        await page.getByRole('link', { name: 'Repositories' }).click();
        await page.waitForFunction(() => document.querySelectorAll('[data-repository]').length === 2);
        expect(await listed()).toEqual(['private/db', 'public/web']);
      });
    });
  }

  describe.runIf(RUNTIMES.includes('node'))('bench on node: a repository with 10,000 tags', () => {
    let server: RunningServer;
    let browser: Browser;
    beforeAll(async () => {
      if (!HAVE_CHROMIUM) return;
      const root = tempDir('ui-bench-root');
      server = await startServer({ runtime: 'node', root, env: { BERTH_ACCESS_LOG: 'false' } });
      await new Pusher(server.url).image('bench/many', 'seed');
      // Pushing 10,000 manifests over HTTP takes ~90 s on this shared machine, so the seed's
      // tag link is copied with the store API and Berth's own key layout (src/paths.ts), each
      // copy a millisecond newer than the last, as pushes one after another would leave them.
      const store = new FsStore(root);
      const link = JSON.parse(new TextDecoder().decode(await readBytes((await store.get(tagKey('bench/many', 'seed')))!)));
      // All in the past (the seed's own link the oldest), so the push of `seed` below is the
      // newest however fast this setup runs (copies dated up to 10 s after the seed's push beat
      // a re-push made within those 10 s).
      const start = Date.parse(link.pushedAt) - 10_002;
      await store.put(tagKey('bench/many', 'seed'), new TextEncoder().encode(JSON.stringify({ ...link, pushedAt: new Date(start).toISOString() })));
      for (let i = 0; i < 10_000; i++) {
        const tag = `v${String(i).padStart(5, '0')}`;
        await store.put(tagKey('bench/many', tag), new TextEncoder().encode(JSON.stringify({ ...link, pushedAt: new Date(start + i + 1).toISOString() })));
      }
      await store.put(catalogKey('bench/many'), new TextEncoder().encode(JSON.stringify({ pushedAt: new Date(start + 10_000).toISOString() })));
      browser = await launchBrowser();
    }, 300_000);
    afterAll(async () => {
      await browser?.close();
      await server?.stop();
    }, 60_000);

    // By name the page reads only its 100 links. By date every link is read once (logged
    // below, cold), then the order is cached until the repository changes: a push of `seed`
    // must move it to the top.
    it('GET /ui/r/bench/many renders its first 100 tags by name and by date (time to render logged: a measurement, not a pass mark)', async () => {
      const page = await browser.context.newPage();
      await page.goto(server.url + '/');
      await shown(page, '[data-repository="bench/many"]');
      const before = await (await fetch(`${server.url}/api/ui/repositories/bench/many/tags?sort=date&n=1`)).json();
      expect(before.tags[0].tag).toBe('v09999');
      const manifest = await (await fetch(`${server.url}/v2/bench/many/manifests/seed`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } })).text();
      const put = await fetch(`${server.url}/v2/bench/many/manifests/seed`, { method: 'PUT', body: manifest, headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' } });
      expect(put.status).toBe(201);
      const cold = performance.now();
      const after = await (await fetch(`${server.url}/api/ui/repositories/bench/many/tags?sort=date&n=1`)).json();
      console.log(`[e2e] ui bench: GET /api/ui/repositories/bench/many/tags?sort=date, cold (10,001 links read): ${(performance.now() - cold).toFixed(0)} ms`);
      expect(after.tags[0].tag).toBe('seed');
      for (const [sort, first] of [['name', 'seed'], ['date', 'seed']] as const) {
        const href = sort === 'name' ? '/ui/r/bench/many' : '/ui/r/bench/many?sort=date';
        // From the click to the rows on screen: the API call and the rendering.
        const ms = await page.evaluate(async ({ href, first }) => {
          const started = performance.now();
          const link = Object.assign(document.createElement('a'), { href });
          document.body.append(link);
          link.click();
          await new Promise<void>((resolve) => {
            const check = () => (document.querySelector(`tr[data-tag="${first}"]`) ? resolve() : requestAnimationFrame(check));
            check();
          });
          return performance.now() - started;
        }, { href, first });
        console.log(`[e2e] ui bench: repository page, 10,001 tags, sort=${sort}: ${ms.toFixed(0)} ms to render`);
        expect(await page.locator('tr[data-tag]').count()).toBe(100);
        expect(await page.locator('h1 + .muted').innerText()).toBe('10001 tags');
        await page.goto(server.url + '/'); // start the next measurement from another page
        await shown(page, '[data-repository="bench/many"]');
      }
    });
  });
});
