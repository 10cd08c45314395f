// Client discovery, versions and wall-time records.
//
// A missing client skips its tests with one console.warn line, unless
// REQUIRE_CLIENTS=1: then the tests run and fail in their first step.
import { accessSync, appendFileSync, constants } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { run } from './exec.ts';

export const REQUIRE_CLIENTS = process.env.REQUIRE_CLIENTS === '1';

export function which(bin: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const p = join(dir, bin);
    try { accessSync(p, constants.X_OK); return p; } catch { /* next */ }
  }
  return undefined;
}

/**
 * Decide, at collection time, whether a suite needing `bins` should be skipped.
 * Returns true to skip. With REQUIRE_CLIENTS=1 it never skips: the suite's
 * `assertClients` call then throws.
 */
export function skipWithout(...bins: string[]): boolean {
  const missing = bins.filter((b) => !which(b));
  if (missing.length === 0) return false;
  if (REQUIRE_CLIENTS) return false;
  console.warn(`[e2e] SKIP: client(s) not installed: ${missing.join(', ')} (set REQUIRE_CLIENTS=1 to fail instead)`);
  return true;
}

export function hasClients(...bins: string[]): boolean {
  return bins.every((b) => which(b));
}

/** Throws when a required binary is missing (beforeEach or first step of a test). */
export function assertClients(...bins: string[]): void {
  const missing = bins.filter((b) => !which(b));
  if (missing.length) throw new Error(`[e2e] required client(s) missing: ${missing.join(', ')}`);
}

const VERSION_ARGS: Record<string, string[]> = {
  skopeo: ['--version'], podman: ['--version'], buildah: ['--version'],
  docker: ['--version'], dockerd: ['--version'], ctr: ['--version'], containerd: ['--version'],
  'docker-registry': ['--version'],
};

const versions = new Map<string, string>();

export async function clientVersion(bin: string): Promise<string> {
  if (!versions.has(bin)) {
    const r = await run(bin, VERSION_ARGS[bin] ?? ['--version'], { allowFail: true, timeoutMs: 20_000 });
    versions.set(bin, (r.stdout || r.stderr).trim().split('\n')[0] ?? 'unknown');
  }
  return versions.get(bin)!;
}

export interface Timing { suite: string; step: string; ms: number; runtime: string }

const timings: Timing[] = [];
const REPORT_FILE = process.env.BERTH_E2E_REPORT ?? join(tmpdir(), 'berth-e2e-report.jsonl');

/** Time one step of a suite and remember it for the summary. */
export async function timed<T>(suite: string, step: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  let ok = false;
  try {
    const result = await fn();
    ok = true;
    return result;
  } finally {
    const ms = performance.now() - t0;
    if (!ok) step += ' (FAILED)';
    const entry = { suite, step, ms, runtime: currentRuntime() };
    timings.push(entry);
    console.log(`[e2e] ${suite} | ${step} | ${(ms / 1000).toFixed(2)} s`);
  }
}

/** Print (and append to BERTH_E2E_REPORT) the versions and timings of a suite. */
export async function printSummary(suite: string, bins: string[], extra: Record<string, string> = {}): Promise<void> {
  const vs = await Promise.all(bins.filter((b) => which(b)).map(async (b) => `${b}: ${await clientVersion(b)}`));
  const mine = timings.filter((t) => t.suite === suite);
  const total = mine.reduce((s, t) => s + t.ms, 0);
  const lines = [
    `[e2e] ===== ${suite} (runtime ${currentRuntime()}) =====`,
    ...vs.map((v) => `[e2e]   version ${v}`),
    ...mine.map((t) => `[e2e]   ${(t.ms / 1000).toFixed(2).padStart(8)} s  ${t.step}`),
    `[e2e]   ${(total / 1000).toFixed(2).padStart(8)} s  total`,
    ...Object.entries(extra).map(([k, v]) => `[e2e]   ${k}: ${v}`),
  ];
  console.log(lines.join('\n'));
  const record = { at: new Date().toISOString(), suite, runtime: currentRuntime(), versions: vs, timings: mine, extra };
  try { appendFileSync(REPORT_FILE, JSON.stringify(record) + '\n'); } catch { /* report is best effort */ }
}

export function currentRuntime(): string {
  return process.env.BERTH_E2E_URL ? `url:${process.env.BERTH_E2E_URL}` : (process.env.BERTH_E2E_RUNTIME ?? 'node');
}
