import { readFileSync } from "node:fs";

const TICK = 100; // clock ticks per second (getconf CLK_TCK)

/** User and system CPU seconds of process `pid` so far (all its threads), and its minor page faults. */
export function processCpu(pid: number): { user: number; sys: number; faults: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /s, "").split(" ");
  return { user: Number(fields[11]) / TICK, sys: Number(fields[12]) / TICK, faults: Number(fields[7]) };
}

/**
 * Clock ticks of the whole machine so far, and those the hypervisor gave to other guests
 * (`steal` in /proc/stat). A share of steal over a run says the host was busy: figures then
 * move between runs for reasons no server controls.
 */
export function machineTicks(): { total: number; steal: number } {
  const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!;
  const ticks = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal guest guest_nice: guest time is inside user.
  return { total: ticks.slice(0, 8).reduce((a, b) => a + b, 0), steal: ticks[7] ?? 0 };
}

/** Percent of the machine's ticks stolen between two `machineTicks()` readings. */
export const stealPercent = (from: ReturnType<typeof machineTicks>, to: ReturnType<typeof machineTicks>): number =>
  to.total > from.total ? (100 * (to.steal - from.steal)) / (to.total - from.total) : 0;
