// Pluggable registry launchers for the e2e suite.
//
//   startServer({ runtime, htpasswdFile?, anonymousPull? }) -> RunningServer
//
// A launcher starts one server on 127.0.0.1 and a free port, and returns its
// URL, the "host:port" clients put in image references, its pid (for peak RSS)
// and stop() (SIGTERM to that pid, never a kill by name).
// Add a runtime: write launchers/<name>.ts exporting a Launcher and list it below.
// Select it with BERTH_E2E_RUNTIME=<name>; BERTH_E2E_URL=<url> skips launching
// for suites that can share a server (auth suites always launch their own).
import { launchBerth } from './launchers/berth.ts';
import { launchDistribution } from './launchers/distribution.ts';
import { launchWorker } from './launchers/worker.ts';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { launchS3 } from './launchers/s3.ts';
import { peakRssKiB } from '../lib/daemon.ts';
import { tempDir } from './lib/tmp.ts';

export interface ServerOptions {
  runtime?: string;
  /** htpasswd file (bcrypt entries) turning on Basic auth. */
  htpasswdFile?: string;
  /** With htpasswd: allow pulls without credentials. */
  anonymousPull?: boolean;
  /** With htpasswd: the access policy file (YAML/JSON). */
  policyFile?: string;
  /** More BERTH_* settings (e.g. BERTH_READ_ONLY_USERS): environment on Node and Deno, --var on Workers. */
  env?: Record<string, string>;
  /** Node and Deno: serve this storage folder instead of a fresh one. */
  root?: string;
}

export interface RunningServer {
  /** e.g. http://127.0.0.1:40123 */
  url: string;
  /** e.g. 127.0.0.1:40123, as used in image references */
  host: string;
  /** pid of the server process, when this suite started it */
  pid?: number;
  runtime: string;
  /** stdout/stderr lines of the server (bounded), for diagnostics */
  logs: string[];
  /** Peak RSS (VmHWM) in KiB of the server and its child processes, if known. */
  peakRssKiB(): number | undefined;
  stop(): Promise<void>;
}

export type Launcher = (opts: ServerOptions) => Promise<RunningServer>;

export const launchers: Record<string, Launcher> = {
  node: launchBerth('node'),
  distribution: launchDistribution,
  deno: launchBerth('deno'),
  worker: launchWorker,
  // two Node processes on one s3rver bucket behind a proxy that alternates requests
  s3: launchS3,
};

export function defaultRuntime(): string {
  return process.env.BERTH_E2E_RUNTIME ?? 'node';
}

export async function startServer(opts: ServerOptions = {}): Promise<RunningServer> {
  const runtime = opts.runtime ?? defaultRuntime();
  const launch = launchers[runtime];
  if (!launch) throw new Error(`[e2e] unknown runtime ${runtime}; known: ${Object.keys(launchers).join(', ')}`);
  return launch({ ...opts, runtime });
}

/**
 * The server most suites use: BERTH_E2E_URL when set (pid from BERTH_E2E_PID if
 * given), else a fresh server of BERTH_E2E_RUNTIME (default "node").
 */
export async function sharedServer(): Promise<RunningServer> {
  const url = process.env.BERTH_E2E_URL;
  if (!url) return startServer();
  const u = new URL(url);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('[e2e] BERTH_E2E_URL must be http(s) (clients run with TLS verify off)');
  const pid = process.env.BERTH_E2E_PID ? Number(process.env.BERTH_E2E_PID) : undefined;
  return {
    url: u.origin, host: u.host, pid, runtime: `url:${u.origin}`, logs: [],
    peakRssKiB: () => (pid ? peakRssKiB(pid) : undefined),
    stop: async () => {},
  };
}

/** True when this runtime is known not to implement a feature (reported, not failed). */
export function lacks(server: RunningServer, feature: 'referrers' | 'anonymous-pull'): boolean {
  return server.runtime === 'distribution' && (feature === 'referrers' || feature === 'anonymous-pull');
}

/**
 * ctr's transport flags for a server: --plain-http, or for HTTPS (the Worker launcher) a
 * hosts.toml with skip_verify: ctr 1.6 speaks plain HTTP to localhost unless a hosts dir
 * names the server https.
 */
export function ctrTransport(server: RunningServer): string[] {
  if (!server.url.startsWith('https:')) return ['--plain-http'];
  const dir = tempDir('ctr-hosts');
  mkdirSync(join(dir, server.host), { recursive: true });
  writeFileSync(join(dir, server.host, 'hosts.toml'),
    `server = "${server.url}"\n\n[host."${server.url}"]\n  capabilities = ["pull", "resolve", "push"]\n  skip_verify = true\n`);
  return ['--hosts-dir', dir];
}
