// The page-cache write speed of the scratch disk: what writing a pushed blob costs the
// kernel, whoever asks. Every registry here writes through the page cache, so this bounds
// push speed the way one core's SHA-256 does. On VMs whose host backs guest memory lazily,
// writing into pages the guest has not used lately costs several times more CPU than
// rewriting recent ones, and it drifts within a run; the figure shows which regime a run met.
import { closeSync, openSync, rmSync, writeSync } from "node:fs";
import path from "node:path";

export interface DiskWrite {
  MBps: number;
  /** Kernel CPU seconds per GiB written, from this process's system time. */
  sys_s_per_GiB: number;
}

/** Write `bytes` of `block` to a new file under `dir` in 1 MiB writes (no fsync); median of 3. */
export function measureDiskWrite(dir: string, bytes: number, block: Buffer): DiskWrite {
  const piece = block.subarray(0, 1024 * 1024);
  const samples: DiskWrite[] = [];
  for (let r = 0; r < 3; r++) {
    const file = path.join(dir, `disk-probe-${r}.bin`);
    const fd = openSync(file, "wx");
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    try {
      for (let done = 0; done < bytes; done += piece.length) writeSync(fd, piece, 0, Math.min(piece.length, bytes - done));
    } finally {
      closeSync(fd);
    }
    const seconds = (performance.now() - t0) / 1000;
    const sys = process.cpuUsage(cpu0).system / 1e6;
    samples.push({ MBps: bytes / 1e6 / seconds, sys_s_per_GiB: sys / (bytes / 2 ** 30) });
    rmSync(file); // the next sample writes a new file, as each push does
  }
  return samples.sort((a, b) => a.MBps - b.MBps)[1]!;
}
