// An upstream for pull-through cache tests: distribution 2.8 (Debian docker-registry) with
// htpasswd, on a fixed port and data folder so it can be killed and started again, behind a
// counting HTTP front on loopback (every request the cache makes is seen, the front can be
// stopped to make the upstream unreachable, and it can SIGKILL distribution in the middle
// of a blob body).
import { request as httpRequest, createServer, type Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { freePort, startDaemon, waitForHttp, type Daemon } from '../../lib/daemon.ts';
import { tempDir } from './tmp.ts';

export const UP_USER = 'mirror';
export const UP_PASSWORD = 'e2e-Upstream-pw';

export interface UpstreamRegistry {
  /** distribution itself (push here directly, with credentials). */
  directHost: string;
  /** The counting front: what the cache is pointed at. */
  frontUrl: string;
  requests: string[];
  /** SIGKILL distribution once this many bytes of the next blob body longer than that went through the front. */
  killDuringNextBlob(afterBytes: number): void;
  stopFront(): Promise<void>;
  startFront(): Promise<void>;
  startDistribution(): Promise<void>;
  stopDistribution(): Promise<void>;
  close(): Promise<void>;
}

export async function startUpstreamRegistry(): Promise<UpstreamRegistry> {
  const dir = tempDir('upstream-distribution');
  const port = await freePort();
  const frontPort = await freePort();
  const htpasswd = join(dir, 'htpasswd');
  writeFileSync(htpasswd, `${UP_USER}:${bcrypt.hashSync(UP_PASSWORD, 10)}\n`);
  const config = join(dir, 'config.yml');
  writeFileSync(config, `version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: ${join(dir, 'data')}
http:
  addr: 127.0.0.1:${port}
auth:
  htpasswd:
    realm: upstream-e2e
    path: ${htpasswd}
`);
  let daemon: Daemon | undefined;
  let killAfter: number | undefined;
  let server: Server | undefined;

  const front = () => createServer((req, res) => {
    up.requests.push(`${req.method} ${req.url?.split('?')[0]}`);
    const out = httpRequest({ host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      // Only a blob body longer than the limit (not the small config fetched alongside it).
      const isBlob = req.method === 'GET' && /\/blobs\/sha256:/.test(req.url ?? '') && upRes.statusCode === 200;
      const limit = isBlob && killAfter !== undefined && Number(upRes.headers['content-length'] ?? 0) > killAfter ? killAfter : undefined;
      if (limit !== undefined) killAfter = undefined;
      let seen = 0;
      upRes.on('data', (chunk: Buffer) => {
        seen += chunk.length;
        if (limit !== undefined && seen >= limit && daemon) {
          daemon.child.kill('SIGKILL'); // the upstream dies mid-body; its socket closes
          daemon = undefined;
        }
      });
      upRes.on('error', () => res.destroy());
      upRes.on('aborted', () => res.destroy());
      upRes.on('close', () => { if (!upRes.complete) res.destroy(); });
      upRes.pipe(res);
    });
    out.on('error', () => { if (!res.headersSent) { res.writeHead(502); res.end(); } else res.destroy(); });
    req.pipe(out);
  });

  const up: UpstreamRegistry = {
    directHost: `127.0.0.1:${port}`,
    frontUrl: `http://127.0.0.1:${frontPort}`,
    requests: [],
    killDuringNextBlob: (bytes) => { killAfter = bytes; },
    async startFront() {
      server = front();
      await new Promise<void>((resolve, reject) => { server!.once('error', reject); server!.listen(frontPort, '127.0.0.1', resolve); });
    },
    async stopFront() {
      const s = server;
      server = undefined;
      if (!s) return;
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    async startDistribution() {
      if (daemon && daemon.child.exitCode === null && daemon.child.signalCode === null) return; // already running
      daemon = startDaemon('docker-registry', ['serve', config]);
      await waitForHttp(`http://127.0.0.1:${port}/v2/`, 30_000, () => daemon?.child.exitCode === null);
    },
    async stopDistribution() {
      await daemon?.stop();
      daemon = undefined;
    },
    async close() {
      await up.stopFront();
      await up.stopDistribution();
    },
  };
  await up.startDistribution();
  await up.startFront();
  return up;
}
