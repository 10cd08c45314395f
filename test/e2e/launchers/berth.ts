// Berth on Node or Deno, as test/lib/berth-command.ts runs it (node bin/berth.mjs serve, or
// deno run runtimes/deno/main.ts with least privilege), printing `berth listening on URL`.
import type { Launcher } from '../servers.ts';
import { berthServeCommand, LISTENING, type BerthRuntime } from '../../lib/berth-command.ts';
import { peakRssKiB, startDaemon } from '../../lib/daemon.ts';
import { tempDir } from '../lib/tmp.ts';

/** Berth on `runtime` with a fresh root, as test/lib/berth-command.ts runs it. */
export const launchBerth = (runtime: BerthRuntime): Launcher => async (opts) => {
  const root = opts.root ?? tempDir(`${runtime}-root`);
  const policy = opts.policyFile ? { extraArgs: ['--policy', opts.policyFile], readable: [opts.policyFile] } : {};
  const { cmd, args, env } = berthServeCommand(runtime, { root, htpasswdFile: opts.htpasswdFile, anonymousPull: opts.anonymousPull, ...policy });
  const d = startDaemon(cmd, args, { env: { ...env, ...opts.env } });
  try {
    const url = (await d.waitForLine(LISTENING, 90_000))[1]!.replace(/\/$/, '');
    return {
      url, host: new URL(url).host, pid: d.pid, runtime, logs: d.logs,
      peakRssKiB: () => peakRssKiB(d.pid),
      stop: () => d.stop(),
    };
  } catch (err) {
    await d.stop();
    throw err;
  }
};

