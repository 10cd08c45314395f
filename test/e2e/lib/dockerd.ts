// A private dockerd (Debian docker.io 20.10) with its own data-root, exec-root,
// pidfile, socket and CLI config, started per suite and stopped by its pid.
// It starts its own containerd under <exec-root>/containerd and stops it on exit.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, sh, type RunOptions, type RunResult } from './exec.ts';
import { startDaemon, type Daemon } from '../../lib/daemon.ts';
import { tempDir } from './tmp.ts';

export interface Dockerd {
  dir: string;
  env: NodeJS.ProcessEnv;
  daemon: Daemon;
  docker(args: string[], opts?: RunOptions): Promise<RunResult>;
  /** docker build of `FROM scratch` + COPY of a random payload; returns the payload's sha256. */
  buildScratch(tag: string, bytes?: number): Promise<{ payloadDigest: string }>;
  /** sha256 of a file inside a local image (docker save | tar), for byte checks after pull. */
  fileDigestInImage(image: string, path: string): Promise<string>;
  /** Digest printed by `docker push` ("<tag>: digest: sha256:... size: N"). */
  push(ref: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startDockerd(name = 'dockerd'): Promise<Dockerd> {
  const dir = tempDir(name);
  for (const sub of ['root', 'exec', 'cfg', 'ctx']) mkdirSync(join(dir, sub), { recursive: true });
  writeFileSync(join(dir, 'daemon.json'), '{}');
  writeFileSync(join(dir, 'cfg', 'config.json'), '{}');
  const sock = join(dir, 'docker.sock');
  const daemon = startDaemon('dockerd', [
    '--config-file', join(dir, 'daemon.json'),
    '--data-root', join(dir, 'root'), '--exec-root', join(dir, 'exec'), '--pidfile', join(dir, 'pid'),
    '-H', `unix://${sock}`, '--storage-driver', 'vfs',
    '--iptables=false', '--ip6tables=false', '--bridge=none',
  ]);
  const env: NodeJS.ProcessEnv = {
    ...process.env, DOCKER_HOST: `unix://${sock}`, DOCKER_CONFIG: join(dir, 'cfg'),
    DOCKER_BUILDKIT: '0', DOCKER_CLI_HINTS: 'false',
  };
  try {
    await daemon.waitForLine(/API listen on/, 60_000);
  } catch (err) {
    await daemon.stop();
    throw err;
  }
  const docker = (args: string[], opts?: RunOptions) => run('docker', args, { env, ...opts });
  return {
    dir, env, daemon, docker,
    async buildScratch(tag, bytes = 256 * 1024) {
      const ctxDir = tempDir('docker-ctx');
      await sh(`head -c ${bytes} /dev/urandom > payload.bin`, { cwd: ctxDir });
      writeFileSync(join(ctxDir, 'Dockerfile'),
        `FROM scratch\nCOPY payload.bin /payload.bin\nLABEL berth.e2e=${randomBytes(8).toString('hex')}\n`);
      await docker(['build', '--quiet', '-t', tag, ctxDir]);
      const digest = (await sh(`sha256sum payload.bin`, { cwd: ctxDir })).stdout.split(' ')[0];
      return { payloadDigest: `sha256:${digest}` };
    },
    async fileDigestInImage(image, path) {
      const out = await sh(`docker save ${image} | tar -xO --wildcards '*/layer.tar' | tar -xO ${path.replace(/^\//, '')} | sha256sum`,
        { env, timeoutMs: 900_000 });
      return `sha256:${out.stdout.split(' ')[0]}`;
    },
    async push(ref) {
      const out = await docker(['push', ref], { timeoutMs: 1_800_000 });
      const m = out.stdout.match(/digest: (sha256:[0-9a-f]{64})/);
      if (!m) throw new Error(`no digest in docker push output:\n${out.stdout}`);
      return m[1]!;
    },
    stop: () => daemon.stop(30_000),
  };
}
