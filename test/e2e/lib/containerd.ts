// A private containerd (1.6, from Debian) with its own root, state, sockets and
// config (CRI and other daemons' plugins off), driven by ctr. Stopped by pid.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, type RunOptions, type RunResult } from './exec.ts';
import { startDaemon, type Daemon } from '../../lib/daemon.ts';
import { tempDir } from './tmp.ts';

export interface Containerd {
  dir: string;
  daemon: Daemon;
  ctr(args: string[], opts?: RunOptions): Promise<RunResult>;
  /** ctr images import (no unpack) of an OCI layout dir as <baseName>:<tag>. */
  importLayout(layoutDir: string, baseName: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startContainerd(): Promise<Containerd> {
  const dir = tempDir('containerd');
  const sock = join(dir, 'containerd.sock');
  const config = join(dir, 'config.toml');
  writeFileSync(config, `version = 2
root = "${join(dir, 'root')}"
state = "${join(dir, 'state')}"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "${sock}"
[ttrpc]
  address = "${sock}.ttrpc"
[debug]
  address = "${join(dir, 'debug.sock')}"
[metrics]
  address = ""
`);
  const daemon = startDaemon('containerd', ['--config', config]);
  try {
    await daemon.waitForLine(/containerd successfully booted|serving\.\.\..*containerd\.sock"/, 60_000);
  } catch (err) {
    await daemon.stop();
    throw err;
  }
  const ctr = (args: string[], opts?: RunOptions) => run('ctr', ['--address', sock, '--namespace', 'berth-e2e', ...args], opts);
  return {
    dir, daemon, ctr,
    async importLayout(layoutDir, baseName) {
      const tar = join(tempDir('ctr-tar'), 'image.tar');
      await run('tar', ['-C', layoutDir, '-cf', tar, '.']);
      await ctr(['images', 'import', '--no-unpack', '--base-name', baseName, tar]);
    },
    stop: () => daemon.stop(30_000),
  };
}
