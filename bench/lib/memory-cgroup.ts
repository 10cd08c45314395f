// A memory cgroup with a limit, for measuring pushes in the page-cache steady state: once a
// server's page cache fills its cgroup, each new page of a pushed file reuses one the kernel
// just reclaimed from that cgroup, as on any long-running host whose RAM is full of cache.
// Without it, on this VM, a push writes into free memory the guest has handed back to the host
// (free page reporting), which costs ~2-4 kernel CPU-s per GiB on first touch (README,
// Performance). Needs root and the memory controller (cgroup v2, or v1's memory hierarchy).
import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { descendants } from "../../test/lib/daemon.ts";

const V2_ROOT = "/sys/fs/cgroup";
const V1_ROOT = "/sys/fs/cgroup/memory";

/** Where new memory cgroups go and their files' names, or why there are none here. */
function hierarchy(): { root: string; limitFile: string; usageFile: string } | string {
  const v2 = existsSync(path.join(V2_ROOT, "cgroup.controllers")) &&
    readFileSync(path.join(V2_ROOT, "cgroup.subtree_control"), "utf8").split(/\s+/).includes("memory");
  const found = v2
    ? { root: V2_ROOT, limitFile: "memory.max", usageFile: "memory.current" }
    : existsSync(path.join(V1_ROOT, "memory.limit_in_bytes"))
    ? { root: V1_ROOT, limitFile: "memory.limit_in_bytes", usageFile: "memory.usage_in_bytes" }
    : undefined;
  if (!found) return `no memory cgroup controller (neither ${V2_ROOT}/cgroup.subtree_control with memory nor ${V1_ROOT})`;
  try {
    accessSync(found.root, constants.W_OK);
  } catch {
    return `memory cgroups need root (${found.root} is not writable)`;
  }
  return found;
}

export class MemoryCgroup {
  private constructor(
    private readonly dir: string,
    private readonly usageFile: string,
    readonly limit: number,
  ) {}

  /** null when cgroups can be made here, else why not. */
  static unavailable(): string | null {
    const h = hierarchy();
    return typeof h === "string" ? h : null;
  }

  /** A new cgroup holding at most `limitBytes` of memory (page cache included). */
  static create(name: string, limitBytes: number): MemoryCgroup {
    const h = hierarchy();
    if (typeof h === "string") throw new Error(h);
    const dir = path.join(h.root, name);
    mkdirSync(dir);
    try {
      writeFileSync(path.join(dir, h.limitFile), String(limitBytes));
      // With swap, the limit could page a server's heap out and lower its RSS figures.
      const noSwap = h.root === V2_ROOT ? ["memory.swap.max", "0"] : ["memory.swappiness", "0"];
      if (existsSync(path.join(dir, noSwap[0]))) writeFileSync(path.join(dir, noSwap[0]), noSwap[1]);
    } catch (error) {
      rmdirSync(dir);
      throw error;
    }
    return new MemoryCgroup(dir, path.join(dir, h.usageFile), limitBytes);
  }

  /** Move process `pid` and its descendants into the cgroup: memory they allocate from now on is
   *  charged to it, as is that of any process they start later. */
  addTree(pid: number): void {
    for (const p of [pid, ...descendants(pid)]) writeFileSync(path.join(this.dir, "cgroup.procs"), String(p));
  }

  /** Bytes charged to the cgroup now. */
  usage(): number {
    return Number(readFileSync(this.usageFile, "utf8"));
  }

  /** Remove the cgroup once its processes have exited (waits up to ~1 s for them: EBUSY). */
  remove(): void {
    for (let attempt = 0; ; attempt++) {
      try {
        return rmdirSync(this.dir);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EBUSY" || attempt === 20) throw error;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
      }
    }
  }
}
