// Child-process plumbing for long-running servers (Berth on Node and Deno, the reference
// registry, dockerd, containerd, the benchmark's sink): start, collect log lines, wait for
// readiness, stop by pid. The one way the HTTP targets, the e2e suite and the benchmark
// start a process (test/lib/berth-command.ts says what to start for Berth).
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

export interface Daemon {
  child: ChildProcess;
  pid: number;
  logs: string[];
  /** Set once the process has exited (why, as text). */
  readonly exited: string | undefined;
  /** Resolves with the first log line matching re (rejects on exit or timeout). */
  waitForLine(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  stop(timeoutMs?: number): Promise<void>;
}

const MAX_LOG_LINES = 20_000;

export interface DaemonOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Also write everything the process prints to this file. */
  logFile?: string;
  /** Run under `nice -n <priority>` (nice execs, so the pid stays the server's). */
  priority?: number;
}

export function startDaemon(cmd: string, args: string[], options: DaemonOptions = {}): Daemon {
  const [file, argv] = options.priority === undefined ? [cmd, args] : ['nice', ['-n', String(options.priority), cmd, ...args]];
  const child = spawn(file, argv, { env: options.env ?? process.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = options.logFile ? createWriteStream(options.logFile) : undefined;
  const logs: string[] = [];
  const waiters: Array<{ re: RegExp; resolve: (m: RegExpMatchArray) => void }> = [];
  let exited: string | undefined;
  const exitWaiters: Array<(why: string) => void> = [];

  const onData = (stream: NodeJS.ReadableStream) => {
    let buf = '';
    stream.on('data', (d: Buffer) => { // always drained, so a chatty server never blocks on a full pipe
      log?.write(d);
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (logs.length >= MAX_LOG_LINES) logs.splice(0, 1000);
        logs.push(line);
        for (const w of [...waiters]) {
          const m = line.match(w.re);
          if (m) { waiters.splice(waiters.indexOf(w), 1); w.resolve(m); }
        }
      }
    });
  };
  onData(child.stdout!);
  onData(child.stderr!);
  const closed = new Promise<void>((resolve) => child.on('close', (code, sig) => {
    exited = `${cmd} exited (${code ?? sig})`;
    for (const w of exitWaiters) w(exited);
    log?.end();
    resolve();
  }));
  child.on('error', (err) => { exited = `${cmd}: ${err.message}`; for (const w of exitWaiters) w(exited); });

  return {
    child,
    pid: child.pid ?? -1,
    logs,
    get exited() { return exited; },
    waitForLine(re, timeoutMs = 30_000) {
      const seen = logs.map((l) => l.match(re)).find(Boolean);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const fail = (why: string) => reject(new Error(`${why} before printing ${re}\n${logs.slice(-30).join('\n')}`));
        if (exited) return fail(exited);
        const timer = setTimeout(() => fail(`timeout after ${timeoutMs} ms`), timeoutMs);
        waiters.push({ re, resolve: (m) => { clearTimeout(timer); resolve(m); } });
        exitWaiters.push((why) => { clearTimeout(timer); fail(why); });
      });
    },
    async stop(timeoutMs = 15_000) {
      if (exited || child.pid === undefined) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => { if (!exited) child.kill('SIGKILL'); }, timeoutMs);
      await closed;
      clearTimeout(timer);
    },
  };
}

/** Ask the kernel for a free 127.0.0.1 port (for servers that cannot take port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Poll an HTTP URL until it answers with any status (the server is up). */
export async function waitForHttp(url: string, timeoutMs = 30_000, isAlive?: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    if (isAlive && !isAlive()) throw new Error(`server died before answering ${url}`);
    try { await fetch(url); return; } catch (err) { last = err; }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no answer from ${url} in ${timeoutMs} ms: ${String(last)}`);
}

/** VmHWM (peak RSS) in KiB of pid plus all of its descendants; undefined if gone. */
export function peakRssKiB(pid: number): number | undefined {
  const all = [pid, ...descendants(pid)];
  let total: number | undefined;
  for (const p of all) {
    const hwm = readStatusField(p, 'VmHWM');
    if (hwm !== undefined) total = (total ?? 0) + hwm;
  }
  return total;
}

function readStatusField(pid: number, field: string): number | undefined {
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
    return m ? Number(m[1]) : undefined;
  } catch { return undefined; }
}

/** Every descendant of `pid` (children, their children, ...), from /proc. */
export function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parent.set(Number(name), ppid);
    } catch { /* raced with exit */ }
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length) {
    const p = queue.shift()!;
    for (const [child, pp] of parent) if (pp === p) { out.push(child); queue.push(child); }
  }
  return out;
}

/** Run a command to its end; its stdout, or a rejection with its output when it fails. */
export function runToEnd(bin: string, args: string[], { cwd, env }: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => void (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => void (stderr += chunk));
    child.once("error", reject);
    child.once("close", (code) => (code === 0 ? resolve(stdout) : reject(new Error(`${bin} ${args.join(" ")}: exit ${code}\n${stdout}${stderr}`))));
  });
}
