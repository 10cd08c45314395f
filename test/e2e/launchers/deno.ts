// Berth on Deno: `deno run` on runtimes/deno/main.ts with the README's least-privilege
// permissions (see test/targets/deno.ts), printing `berth listening on http://127.0.0.1:PORT`.
import type { Launcher } from '../servers.ts';
import { peakRssKiB, startDaemon } from '../lib/proc.ts';
import { tempDir } from '../lib/tmp.ts';
import { denoBinary, denoServeArgs } from '../../targets/deno.ts';

export const launchDeno: Launcher = async (opts) => {
  const bin = denoBinary();
  if (!bin) throw new Error('[e2e] no deno executable (npm ci installs one; or set DENO_BIN)');
  const root = tempDir('deno-root');
  const policy = opts.policyFile ? { extraArgs: ['--policy', opts.policyFile], readable: [opts.policyFile] } : {};
  const args = denoServeArgs({ root, htpasswdFile: opts.htpasswdFile, anonymousPull: opts.anonymousPull, ...policy });
  const d = startDaemon(bin, args, { ...process.env, ...opts.env, NO_COLOR: '1' });
  try {
    const m = await d.waitForLine(/berth listening on (http:\/\/127\.0\.0\.1:(\d+))/, 90_000);
    const url = m[1]!;
    return {
      url, host: new URL(url).host, pid: d.pid, runtime: 'deno', logs: d.logs,
      peakRssKiB: () => peakRssKiB(d.pid),
      stop: () => d.stop(),
    };
  } catch (err) {
    await d.stop();
    throw err;
  }
};
