import { readFileSync } from "node:fs";

const TICK = 100; // clock ticks per second (getconf CLK_TCK)

/** User and system CPU seconds of process `pid` so far (all its threads), and its minor page faults. */
export function processCpu(pid: number): { user: number; sys: number; faults: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /s, "").split(" ");
  return { user: Number(fields[11]) / TICK, sys: Number(fields[12]) / TICK, faults: Number(fields[7]) };
}
