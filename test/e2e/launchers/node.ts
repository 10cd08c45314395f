// Berth on Node: `node bin/berth.mjs serve --root DIR --host 127.0.0.1 --port 0`,
// which prints `berth listening on http://127.0.0.1:PORT` once it accepts requests.
import { fileURLToPath } from 'node:url';
import type { Launcher } from '../servers.ts';
import { peakRssKiB, startDaemon } from '../lib/proc.ts';
import { tempDir } from '../lib/tmp.ts';

const BIN = fileURLToPath(new URL('../../../bin/berth.mjs', import.meta.url));

export const launchNode: Launcher = async (opts) => {
  const root = opts.root ?? tempDir('node-root');
  const args = [BIN, 'serve', '--root', root, '--host', '127.0.0.1', '--port', '0'];
  if (opts.htpasswdFile) args.push('--htpasswd', opts.htpasswdFile);
  if (opts.anonymousPull) args.push('--anonymous-pull');
  if (opts.policyFile) args.push('--policy', opts.policyFile);
  const d = startDaemon(process.execPath, args, { ...process.env, ...opts.env });
  try {
    const m = await d.waitForLine(/berth listening on (http:\/\/127\.0\.0\.1:(\d+))/, 60_000);
    const url = m[1]!;
    return {
      url, host: new URL(url).host, pid: d.pid, runtime: 'node', logs: d.logs,
      peakRssKiB: () => peakRssKiB(d.pid),
      stop: () => d.stop(),
    };
  } catch (err) {
    await d.stop();
    throw err;
  }
};
