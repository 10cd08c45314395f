// Run a client command with a timeout, capture its output, and fail loudly with
// the command line and the tail of stderr when it exits non-zero.
import { spawn } from 'node:child_process';

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Milliseconds before the process is killed (SIGKILL to its pid). */
  timeoutMs?: number;
  /** Resolve instead of throwing when the exit code is non-zero. */
  allowFail?: boolean;
  input?: string;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

const MAX_CAPTURE = 4 * 1024 * 1024;

export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => { if (stdout.length < MAX_CAPTURE) stdout += d; });
    child.stderr!.on('data', (d: Buffer) => { if (stderr.length < MAX_CAPTURE) stderr += d; });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 600_000);
    child.on('error', (err) => { clearTimeout(timer); reject(err); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result = { code: code ?? 128, stdout, stderr, ms: performance.now() - started };
      if (result.code !== 0 && !opts.allowFail) {
        reject(new Error(`${describe(cmd, args)} exited ${code ?? signal}\n` +
          `stderr: ${stderr.slice(-3000)}\nstdout: ${stdout.slice(-1000)}`));
      } else resolve(result);
    });
  });
}

/** Run a shell pipeline (bash -o pipefail), for things like `docker save | tar -xO`. */
export function sh(script: string, opts: RunOptions = {}): Promise<RunResult> {
  return run('bash', ['-o', 'pipefail', '-c', script], opts);
}

function describe(cmd: string, args: string[]): string {
  return [cmd, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
}
