// The page-cache write speed of the scratch disk: what writing a pushed blob costs the
// kernel, whoever asks. Every registry here writes through the page cache, so this bounds
// push speed the way one core's SHA-256 does. On VMs whose host backs guest memory lazily,
// writing into pages the guest has not used lately costs several times more CPU than
// rewriting recent ones, and it drifts within a run; the figure shows which regime a run met.
import { closeSync, openSync, rmSync, writeSync } from "node:fs";
import path from "node:path";

export interface DiskWrite {
  /** The first write, into pages nothing freed just before (what a push or a cache fill meets). */
  MBps: number;
  /** Kernel CPU seconds per GiB written, from this process's system time. */
  sys_s_per_GiB: number;
  /** The same write again after deleting the first file, into the pages it freed. */
  recycled: { MBps: number; sys_s_per_GiB: number };
}

/**
 * Write `bytes` of `block` to a new file under `dir` in 1 MiB writes (no fsync), twice: the
 * second after deleting the first. On this VM the two differ ~10x (3.3 vs 0.3 CPU-s/GiB seen),
 * so a median of rewrites would hide what a blob written into new pages costs.
 */
export function measureDiskWrite(dir: string, bytes: number, block: Buffer): DiskWrite {
  const first = writeOnce(dir, bytes, block);
  const recycled = writeOnce(dir, bytes, block);
  return { ...first, recycled };
}

function writeOnce(dir: string, bytes: number, block: Buffer): { MBps: number; sys_s_per_GiB: number } {
  const piece = block.subarray(0, 1024 * 1024);
  const file = path.join(dir, "disk-probe.bin");
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
  rmSync(file);
  return { MBps: bytes / 1e6 / seconds, sys_s_per_GiB: sys / (bytes / 2 ** 30) };
}
