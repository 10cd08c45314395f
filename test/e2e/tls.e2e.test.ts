// HTTPS with --tls-cert/--tls-key and a test-made CA: skopeo, podman and docker push and
// pull with the CA as their only trust (no --tls-verify=false, no insecure registries),
// the certificate is a PEM chain, and a certificate swapped on disk is served without a
// restart. Node and Deno for skopeo and the swap; podman and docker on Node.
import { copyFileSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { denoBinary } from '../lib/berth-command.ts';
import { startProcessServer, type ProcessServer } from '../ops/process-server.ts';
import { assertClients, hasClients, skipWithout, timed } from './lib/clients.ts';
import { containersEnv } from './lib/containers-env.ts';
import { startDockerd, type Dockerd } from './lib/dockerd.ts';
import { randomImageLayout } from './lib/oci-layout.ts';
import { uniqueRepo } from './lib/registry-api.ts';
import { tempDir } from './lib/tmp.ts';
import { fileFingerprint, makeCa, makeServerCert, servedFingerprint, type ServerCert, type TestCa } from './lib/tls.ts';

const SUITE = 'tls';
const T = 300_000;

interface TlsServer { server: ProcessServer; host: string; port: number; certFile: string; keyFile: string }

async function startTlsServer(kind: 'node' | 'deno', dir: string, cert: ServerCert): Promise<TlsServer> {
  mkdirSync(dir, { recursive: true });
  const certFile = join(dir, 'tls.crt');
  const keyFile = join(dir, 'tls.key');
  copyFileSync(cert.chain, certFile);
  copyFileSync(cert.key, keyFile);
  // No --unstable-net on Deno: node:https swaps the certificate in place (setSecureContext).
  const server = await startProcessServer(kind, dir, ['--tls-cert', certFile, '--tls-key', keyFile], { readable: [certFile, keyFile] });
  expect(server.url).toMatch(/^https:\/\//);
  const { host, port } = new URL(server.url);
  return { server, host, port: Number(port), certFile, keyFile };
}

describe.skipIf(skipWithout('openssl'))('TLS', () => {
  let ca: TestCa;
  let certs: { a: ServerCert; b: ServerCert };
  let certDir: string;
  beforeAll(async () => {
    assertClients('openssl');
    const dir = tempDir('tls-ca');
    ca = await makeCa(dir);
    certs = { a: await makeServerCert(ca, dir, 'a'), b: await makeServerCert(ca, dir, 'b') };
    certDir = join(dir, 'certs');
    mkdirSync(certDir);
    copyFileSync(ca.cert, join(certDir, 'ca.crt')); // what --cert-dir reads
  }, 60_000);

  for (const kind of ['node', ...(denoBinary() !== null ? ['deno'] : [])] as Array<'node' | 'deno'>) {
    describe.skipIf(skipWithout('skopeo'))(`skopeo over HTTPS [${kind}]`, () => {
      let tls: TlsServer;
      beforeAll(async () => { tls = await startTlsServer(kind, tempDir(`tls-${kind}`), certs.a); }, 120_000);
      afterAll(async () => { await tls?.server.stop(); });

      it('skopeo copy in and out with --cert-dir holding only the test CA; list-tags', async () => {
        assertClients('skopeo');
        const c = containersEnv(`tls-${kind}`, []); // no registries.conf entry: nothing insecure
        const repo = uniqueRepo('tls');
        const img = await randomImageLayout(tempDir('layout'), 'v1', 2);
        const ref = `docker://${tls.host}/${repo}:v1`;
        await timed(SUITE, `skopeo copy in over HTTPS (${kind})`, () => c.skopeo(['copy', '--dest-cert-dir', certDir, `oci:${img.layout.dir}:v1`, ref]));
        const out = join(tempDir('tls-out'), 'layout');
        await timed(SUITE, `skopeo copy out over HTTPS (${kind})`, () => c.skopeo(['copy', '--src-cert-dir', certDir, ref, `oci:${out}:v1`]));
        const tags = JSON.parse((await c.skopeo(['list-tags', '--cert-dir', certDir, `docker://${tls.host}/${repo}`])).stdout);
        expect(tags.Tags).toEqual(['v1']);
        // Without the CA the same client refuses: the certificate really is checked.
        const untrusted = await c.skopeo(['list-tags', `docker://${tls.host}/${repo}`], { allowFail: true });
        expect(untrusted.code).not.toBe(0);
        expect(untrusted.stderr).toMatch(/certificate|x509/i);
      }, T);

      it('a certificate swapped on disk is served without a restart', async () => {
        expect(await servedFingerprint(tls.port, ca.cert)).toBe(await fileFingerprint(certs.a.cert));
        const pid = tls.server.child.pid;
        // As acme clients do: write new files next to the old, rename over them.
        copyFileSync(certs.b.key, `${tls.keyFile}.new`);
        copyFileSync(certs.b.chain, `${tls.certFile}.new`);
        renameSync(`${tls.keyFile}.new`, tls.keyFile);
        renameSync(`${tls.certFile}.new`, tls.certFile);
        const wanted = await fileFingerprint(certs.b.cert);
        let served = '';
        for (const end = Date.now() + 10_000; served !== wanted && Date.now() < end; await new Promise((r) => setTimeout(r, 200))) {
          served = await servedFingerprint(tls.port, ca.cert);
        }
        expect(served).toBe(wanted);
        expect(tls.server.child.pid).toBe(pid);
        expect(tls.server.child.exitCode).toBe(null);
        expect(tls.server.output().some((line) => line.includes('TLS certificate reloaded'))).toBe(true);
        const c = containersEnv('tls-swap', []);
        const list = await c.skopeo(['list-tags', '--cert-dir', certDir, `docker://${tls.host}/nothing/here`], { allowFail: true });
        expect(list.stderr).not.toMatch(/certificate|x509/i); // the new certificate verifies (the repo is simply unknown)
      }, T);
    });
  }

  describe.skipIf(skipWithout('podman', 'skopeo'))('podman over HTTPS [node]', () => {
    let tls: TlsServer;
    beforeAll(async () => { tls = await startTlsServer('node', tempDir('tls-podman'), certs.a); }, 120_000);
    afterAll(async () => { await tls?.server.stop(); });

    it('podman pull and push with --cert-dir holding only the test CA', async () => {
      assertClients('podman', 'skopeo');
      const c = containersEnv('tls-podman', []);
      const repo = uniqueRepo('tls-podman');
      const img = await randomImageLayout(tempDir('layout'), 'v1', 1);
      await c.skopeo(['copy', '--dest-cert-dir', certDir, `oci:${img.layout.dir}:v1`, `docker://${tls.host}/${repo}:v1`]);
      await timed(SUITE, 'podman pull over HTTPS', () => c.podman(['pull', '--cert-dir', certDir, `${tls.host}/${repo}:v1`]));
      await timed(SUITE, 'podman push over HTTPS', () => c.podman(['push', '--cert-dir', certDir, `${tls.host}/${repo}:v1`, `docker://${tls.host}/${repo}-copy:v1`]));
      const inspect = JSON.parse((await c.skopeo(['inspect', '--cert-dir', certDir, `docker://${tls.host}/${repo}-copy:v1`])).stdout);
      expect(inspect.Layers).toHaveLength(1);
      expect(inspect.Layers[0]).toBe(img.layers[0]!.desc.digest);
    }, T);
  });

  describe.skipIf(skipWithout('docker', 'dockerd'))('docker over HTTPS [node]', () => {
    let tls: TlsServer;
    let d: Dockerd;
    beforeAll(async () => {
      if (!hasClients('docker', 'dockerd')) return;
      tls = await startTlsServer('node', tempDir('tls-docker'), certs.a);
      d = await startDockerd('dockerd-tls');
    }, 120_000);
    afterAll(async () => { await d?.stop(); await tls?.server.stop(); }, 60_000);

    // dockerd treats 127.0.0.0/8 as an insecure registry by default and then skips
    // certificate checks, so this proves docker speaks HTTPS to Berth (the server has no
    // plain HTTP listener), not that it verified the CA; skopeo and podman above do that.
    it('docker push and pull over HTTPS (the server only speaks TLS)', async () => {
      assertClients('docker', 'dockerd');
      const ref = `${tls.host}/${uniqueRepo('tls-docker')}:v1`;
      await d.buildScratch(ref);
      const digest = await timed(SUITE, 'docker push over HTTPS', () => d.push(ref));
      await d.docker(['rmi', ref]);
      const pull = await timed(SUITE, 'docker pull over HTTPS', () => d.docker(['pull', ref]));
      expect(pull.stdout).toContain(`Digest: ${digest}`);
      expect(tls.server.output().some((line) => line.includes('"PUT /v2/') && line.includes(' 201 '))).toBe(true);
    }, T);
  });
});
