// The reference registry (CNCF distribution 2.8, Debian's docker-registry), for
// comparisons. No anonymous pull with htpasswd and no referrers API in 2.8.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Launcher } from '../servers.ts';
import { freePort, peakRssKiB, startDaemon, waitForHttp } from '../../lib/daemon.ts';
import { tempDir } from '../lib/tmp.ts';

export const launchDistribution: Launcher = async (opts) => {
  if (opts.anonymousPull) console.warn('[e2e] distribution has no anonymous pull with htpasswd; ignoring');
  const dir = tempDir('distribution');
  const port = await freePort();
  const auth = opts.htpasswdFile
    ? `auth:\n  htpasswd:\n    realm: berth-e2e\n    path: ${opts.htpasswdFile}\n`
    : '';
  const config = join(dir, 'config.yml');
  writeFileSync(config, `version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: ${join(dir, 'data')}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:${port}
${auth}`);
  const d = startDaemon('docker-registry', ['serve', config]);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${url}/v2/`, 30_000, () => d.child.exitCode === null);
  } catch (err) {
    await d.stop();
    throw new Error(`${String(err)}\n${d.logs.slice(-20).join('\n')}`);
  }
  return {
    url, host: `127.0.0.1:${port}`, pid: d.pid, runtime: 'distribution', logs: d.logs,
    peakRssKiB: () => peakRssKiB(d.pid),
    stop: () => d.stop(),
  };
};
