// Many processes, one bucket: a real s3rver, two `berth serve --s3-bucket` Node processes on
// it, and in front of them a small HTTP proxy that sends each request to the next process in
// turn, so a client's upload (POST, PATCH, PUT) and pull are split across both. Clients see
// one host:port, as behind a load balancer.
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Launcher } from '../servers.ts';
import { peakRssKiB, startDaemon, type Daemon } from '../../lib/daemon.ts';
import { S3RVER_CREDENTIALS, startS3rver } from '../../storage/s3rver.ts';

const BIN = fileURLToPath(new URL('../../../bin/berth.mjs', import.meta.url));
const BUCKET = 'berth-e2e';

export const launchS3: Launcher = async (opts) => {
  const s3 = await startS3rver([BUCKET]);
  const args = [BIN, 'serve', '--s3-bucket', BUCKET, '--s3-endpoint', s3.endpoint, '--host', '127.0.0.1', '--port', '0'];
  if (opts.htpasswdFile) args.push('--htpasswd', opts.htpasswdFile);
  if (opts.anonymousPull) args.push('--anonymous-pull');
  if (opts.policyFile) args.push('--policy', opts.policyFile);
  const env = { ...process.env, AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey };
  const daemons: Daemon[] = [startDaemon(process.execPath, args, { env }), startDaemon(process.execPath, args, { env })];
  let proxy: Server | undefined;
  const stop = async () => {
    await new Promise<void>((done) => (proxy ? proxy.close(() => done()) : done()));
    proxy?.closeAllConnections();
    await Promise.all(daemons.map((d) => d.stop()));
    await s3.close();
  };
  try {
    const urls = await Promise.all(daemons.map(async (d) => (await d.waitForLine(/berth listening on (http:\/\/127\.0\.0\.1:\d+)/, 60_000))[1]!));
    proxy = alternatingProxy(urls);
    await new Promise<void>((resolve) => proxy!.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    return {
      url, host: new URL(url).host, pid: daemons[0]!.pid, runtime: 's3', logs: daemons.flatMap((d) => d.logs),
      peakRssKiB: () => Math.max(...daemons.map((d) => peakRssKiB(d.pid) ?? 0)) || undefined,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
};

/** Each request to the next upstream in turn; bodies stream both ways. */
function alternatingProxy(upstreams: string[]): Server {
  let turn = 0;
  return createServer((req, res) => {
    const upstream = new URL(upstreams[turn++ % upstreams.length]!);
    const forward = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
}
