// Berth on Cloudflare Workers as `npm run dev:worker` runs it: `wrangler dev` (real workerd,
// local R2 persisted to a temp dir) on 127.0.0.1, printing `Ready on http://127.0.0.1:PORT`.
// htpasswd content goes in as the BERTH_HTPASSWD var, as `wrangler secret put` would.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Launcher } from '../servers.ts';
import { freePort, peakRssKiB, startDaemon } from '../../lib/daemon.ts';
import { tempDir } from '../lib/tmp.ts';

const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const WRANGLER = fileURLToPath(new URL('../../../node_modules/wrangler/bin/wrangler.js', import.meta.url));

export const launchWorker: Launcher = async (opts) => {
  const [port, inspectorPort] = [await freePort(), await freePort()];
  const args = [
    WRANGLER, 'dev', '--config', `${REPO_ROOT}/wrangler.toml`, '--ip', '127.0.0.1', '--port', String(port),
    '--inspector-port', String(inspectorPort), '--persist-to', tempDir('worker-state'),
    '--show-interactive-dev-session=false', '--log-level', 'info',
  ];
  if (opts.htpasswdFile) args.push('--var', `BERTH_HTPASSWD:${readFileSync(opts.htpasswdFile, 'utf8')}`);
  if (opts.anonymousPull) args.push('--var', 'BERTH_ANONYMOUS_PULL:true');
  if (opts.policyFile) args.push('--var', `BERTH_POLICY:${readFileSync(opts.policyFile, 'utf8')}`);
  for (const [key, value] of Object.entries(opts.env ?? {})) args.push('--var', `${key}:${value}`);
  const env = { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', NO_COLOR: '1', CI: 'true' };
  const d = startDaemon(process.execPath, args, { env });
  try {
    await d.waitForLine(/Ready on http:\/\/127\.0\.0\.1:\d+/, 120_000);
    const url = `http://127.0.0.1:${port}`;
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
