// Berth on Cloudflare Workers as `npm run dev:worker` runs it: `wrangler dev` (real workerd,
// local R2 persisted to a temp dir) on 127.0.0.1 over HTTPS (`--local-protocol https`), with
// a certificate from a test-made CA, printing `Ready on https://127.0.0.1:PORT`. Over plain
// HTTP, skopeo, podman and docker first wait ~10 s per command for a TLS handshake workerd
// never answers; over HTTPS they get one at once. Clients run with TLS verification off (as
// for the other runtimes) or the CA; the suites' own checks trust the CA (lib/fetch-ca.ts).
// BERTH_E2E_WORKER_PROTOCOL=http keeps the old plain socket.
// htpasswd content goes in as the BERTH_HTPASSWD var, as `wrangler secret put` would.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Launcher } from '../servers.ts';
import { freePort, peakRssKiB, startDaemon } from '../../lib/daemon.ts';
import { tempDir } from '../lib/tmp.ts';
import { trustCa } from '../lib/fetch-ca.ts';
import { makeCa, makeServerCert } from '../lib/tls.ts';

const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const WRANGLER = fileURLToPath(new URL('../../../node_modules/wrangler/bin/wrangler.js', import.meta.url));

export const launchWorker: Launcher = async (opts) => {
  const [port, inspectorPort] = [await freePort(), await freePort()];
  const args = [
    WRANGLER, 'dev', '--config', `${REPO_ROOT}/wrangler.toml`, '--ip', '127.0.0.1', '--port', String(port),
    '--inspector-port', String(inspectorPort), '--persist-to', tempDir('worker-state'),
    '--show-interactive-dev-session=false', '--log-level', 'info',
  ];
  const https = process.env.BERTH_E2E_WORKER_PROTOCOL !== 'http';
  let ca: string | undefined;
  if (https) {
    const dir = tempDir('worker-tls');
    const authority = await makeCa(dir);
    const cert = await makeServerCert(authority, dir, 'wrangler');
    ca = readFileSync(authority.cert, 'utf8');
    args.push('--local-protocol', 'https', '--https-cert-path', cert.chain, '--https-key-path', cert.key);
  }
  if (opts.htpasswdFile) args.push('--var', `BERTH_HTPASSWD:${readFileSync(opts.htpasswdFile, 'utf8')}`);
  if (opts.anonymousPull) args.push('--var', 'BERTH_ANONYMOUS_PULL:true');
  if (opts.policyFile) args.push('--var', `BERTH_POLICY:${readFileSync(opts.policyFile, 'utf8')}`);
  for (const [key, value] of Object.entries(opts.env ?? {})) args.push('--var', `${key}:${value}`);
  const env = { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', NO_COLOR: '1', CI: 'true' };
  const d = startDaemon(process.execPath, args, { env });
  try {
    await d.waitForLine(/Ready on https?:\/\/127\.0\.0\.1:\d+/, 120_000);
    const url = `${https ? 'https' : 'http'}://127.0.0.1:${port}`;
    if (ca) trustCa(url, ca);
    return {
      url, host: `127.0.0.1:${port}`, pid: d.pid, runtime: 'worker', logs: d.logs,
      peakRssKiB: () => peakRssKiB(d.pid),
      stop: () => d.stop(),
    };
  } catch (err) {
    await d.stop();
    throw err;
  }
};
