// --http2: HTTP/2 by ALPN beside HTTP/1.1 over TLS (node:http2's compatibility API through the
// shared adapter), on Node and Deno. curl --http2 gets HTTP/2; a raw HTTP/2 client pushes and
// pulls a blob and gets the OCI errors a bad body earns; skopeo pushes and pulls through it
// (skopeo 1.9 negotiates HTTP/1.1 even when h2 is offered); without --http2 ALPN offers none.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { connect, type ClientHttp2Session } from 'node:http2';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { denoBinary } from '../lib/berth-command.ts';
import { startProcessServer, type ProcessServer } from '../ops/process-server.ts';
import { assertClients, skipWithout } from './lib/clients.ts';
import { containersEnv } from './lib/containers-env.ts';
import { randomImageLayout } from './lib/oci-layout.ts';
import { digestOf, uniqueRepo } from './lib/registry-api.ts';
import { tempDir } from './lib/tmp.ts';
import { makeCa, makeServerCert, type ServerCert, type TestCa } from './lib/tls.ts';

const T = 300_000;
const curl = promisify(execFile);

interface H2Answer { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }

/** One request over an HTTP/2 session; `body` chunks are written one by one (no length: streamed). */
function h2request(session: ClientHttp2Session, method: string, path: string, body?: Buffer[], headers: Record<string, string> = {}): Promise<H2Answer> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': method, ':path': path, ...headers });
    const chunks: Buffer[] = [];
    let answer: H2Answer['headers'] = {};
    stream.on('response', (h) => (answer = h));
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve({ status: Number(answer[':status']), headers: answer, body: Buffer.concat(chunks) }));
    stream.on('error', reject);
    for (const chunk of body ?? []) stream.write(chunk);
    stream.end();
  });
}

async function startServer(kind: 'node' | 'deno', cert: ServerCert, http2: boolean): Promise<ProcessServer> {
  const dir = tempDir(`h2-${kind}`);
  mkdirSync(dir, { recursive: true });
  const certFile = join(dir, 'tls.crt');
  const keyFile = join(dir, 'tls.key');
  copyFileSync(cert.chain, certFile);
  copyFileSync(cert.key, keyFile);
  return startProcessServer(kind, dir, ['--tls-cert', certFile, '--tls-key', keyFile, ...(http2 ? ['--http2'] : [])], { readable: [certFile, keyFile] });
}

describe.skipIf(skipWithout('openssl', 'curl'))('HTTP/2 over TLS (--http2)', () => {
  let ca: TestCa;
  let cert: ServerCert;
  let certDir: string;
  beforeAll(async () => {
    assertClients('openssl', 'curl');
    const dir = tempDir('h2-ca');
    ca = await makeCa(dir);
    cert = await makeServerCert(ca, dir, 'a');
    certDir = join(dir, 'certs');
    mkdirSync(certDir);
    copyFileSync(ca.cert, join(certDir, 'ca.crt'));
  }, 60_000);

  for (const kind of ['node', ...(denoBinary() !== null ? ['deno'] : [])] as Array<'node' | 'deno'>) {
    describe(`[${kind}]`, () => {
      let server: ProcessServer;
      let session: ClientHttp2Session;
      beforeAll(async () => {
        server = await startServer(kind, cert, true);
        session = connect(server.url, { ca: readFileSync(ca.cert) });
      }, 120_000);
      afterAll(async () => {
        session?.close();
        await server?.stop();
      });

      it('curl --http2 GET /v2/ -> HTTP/2 200; curl --http1.1 on the same port -> HTTP/1.1 200', async () => {
        const h2 = await curl('curl', ['-s', '--cacert', ca.cert, '--http2', '-o', '/dev/null', '-w', '%{http_version} %{http_code}', `${server.url}/v2/`]);
        expect(h2.stdout).toBe('2 200');
        const h1 = await curl('curl', ['-s', '--cacert', ca.cert, '--http1.1', '-o', '/dev/null', '-w', '%{http_version} %{http_code}', `${server.url}/v2/`]);
        expect(h1.stdout).toBe('1.1 200');
      });

      it('POST, streamed PATCH, PUT /v2/<name>/blobs/uploads/<id>?digest= over HTTP/2 -> 201; GET and HEAD return it', async () => {
        const repo = `/v2/${uniqueRepo('h2')}`;
        const chunks = Array.from({ length: 64 }, (_, i) => Buffer.alloc(64 * 1024, i)); // 4 MiB
        const blob = Buffer.concat(chunks);
        const started = await h2request(session, 'POST', `${repo}/blobs/uploads/`);
        expect(started.status).toBe(202);
        const patched = await h2request(session, 'PATCH', String(started.headers.location), chunks, { 'content-type': 'application/octet-stream' });
        expect(patched.status).toBe(202);
        expect(patched.headers.range).toBe(`0-${blob.length - 1}`);
        const put = await h2request(session, 'PUT', `${patched.headers.location}?digest=${digestOf(blob)}`);
        expect(put.status).toBe(201);
        const got = await h2request(session, 'GET', `${repo}/blobs/${digestOf(blob)}`);
        expect(got.status).toBe(200);
        expect(digestOf(got.body)).toBe(digestOf(blob));
        const head = await h2request(session, 'HEAD', `${repo}/blobs/${digestOf(blob)}`);
        expect([head.status, head.headers['content-length'], head.body.length]).toEqual([200, String(blob.length), 0]);
      });

      it('PUT /v2/<name>/blobs/uploads/?digest=<wrong> with a body over HTTP/2 -> 400 DIGEST_INVALID (OCI JSON); the session still serves', async () => {
        const repo = `/v2/${uniqueRepo('h2-bad')}`;
        const started = await h2request(session, 'POST', `${repo}/blobs/uploads/`);
        const bad = await h2request(session, 'PUT', `${started.headers.location}?digest=${digestOf('something else')}`, [Buffer.alloc(256 * 1024, 7)]);
        expect(bad.status).toBe(400);
        expect(JSON.parse(bad.body.toString()).errors[0].code).toBe('DIGEST_INVALID');
        const range = await h2request(session, 'POST', `${repo}/blobs/uploads/`);
        const outOfOrder = await h2request(session, 'PATCH', String(range.headers.location), [Buffer.alloc(10)], { 'content-range': '5-14', 'content-length': '10' });
        expect(outOfOrder.status).toBe(416);
        expect(JSON.parse(outOfOrder.body.toString()).errors[0].code).toBe('RANGE_INVALID');
        expect((await h2request(session, 'GET', '/v2/')).status).toBe(200);
      });

      it.skipIf(skipWithout('skopeo'))('skopeo copy in and out against the --http2 server, with only the test CA', async () => {
        assertClients('skopeo');
        const c = containersEnv(`h2-${kind}`, []);
        const host = new URL(server.url).host;
        const repo = uniqueRepo('h2-skopeo');
        const img = await randomImageLayout(tempDir('layout'), 'v1', 2);
        await c.skopeo(['copy', '--dest-cert-dir', certDir, `oci:${img.layout.dir}:v1`, `docker://${host}/${repo}:v1`]);
        const out = join(tempDir('h2-out'), 'layout');
        await c.skopeo(['copy', '--src-cert-dir', certDir, `docker://${host}/${repo}:v1`, `oci:${out}:v1`]);
        const inspect = JSON.parse((await c.skopeo(['inspect', '--cert-dir', certDir, `docker://${host}/${repo}:v1`])).stdout);
        expect(inspect.Layers).toEqual(img.layers.map((layer) => layer.desc.digest));
      }, T);

      it('SIGTERM with an idle HTTP/2 session open -> the server exits within the grace', async () => {
        const other = await startServer(kind, cert, true);
        const idle = connect(other.url, { ca: readFileSync(ca.cert) });
        expect((await h2request(idle, 'GET', '/v2/')).status).toBe(200);
        const t0 = Date.now();
        await other.stop();
        expect(Date.now() - t0).toBeLessThan(5000);
        expect(other.child.exitCode).toBe(0);
        idle.destroy();
      }, 120_000);
    });
  }

  it('without --http2, ALPN offers no h2: curl --http2 gets HTTP/1.1', async () => {
    const server = await startServer('node', cert, false);
    try {
      const out = await curl('curl', ['-s', '--cacert', ca.cert, '--http2', '-o', '/dev/null', '-w', '%{http_version} %{http_code}', `${server.url}/v2/`]);
      expect(out.stdout).toBe('1.1 200');
    } finally {
      await server.stop();
    }
  }, 120_000);
});
