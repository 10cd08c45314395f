import { memoryUsage, versions } from "node:process";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { setTimeout } from "node:timers";

/** Request-body bytes between two forced scavenges: about the dead buffers allowed to pile up. */
const SCAVENGE_EVERY_BYTES = 4 * 1024 * 1024;
/** Quiet time after the last request after which one full collection hands memory back. */
const IDLE_MS = 2000;

/**
 * On Deno the `gc` that turning on --expose-gc at run time gives is a full collection whatever
 * the options: Deno's setFlagsFromString only makes new contexts get a `gc` that calls V8's
 * LowMemoryNotification (two mark-compacts, ~8 ms of the main thread and as much on V8's
 * helper threads). One every 4 MiB, as on Node, was ~7 of the ~10 CPU-s a 1 GiB push cost Deno.
 * There it runs only once the array buffers V8 holds (the live ones, ~3 MiB during a push,
 * and the dead ones not yet freed) pass this bound, plus a little per body being read: about
 * one every 8 MiB. Without any, V8 frees them per ~64 MiB and a 1 GiB push peaked at 160 MiB
 * RSS; a 16 MiB bound peaked at 82-86 MiB, this one at 73-74 (1 and 4 GiB pushes).
 *
 * Started with `--v8-flags=--expose-gc` (the README's command), Deno has V8's own `gc` as a
 * global, which scavenges as Node's does, and pushes ran 2x faster with it (1 GiB PATCH 162-299
 * -> 611-617 MB/s). Scavenges alone left the mixed load's RSS at ~185 MiB, though: the run-time
 * `gc`'s low-memory collection also hands V8's pooled pages back. So every DENO_RELEASE_EVERY-th
 * collection (every 64 MiB of one body) is that one: mixed-load peaks 124 / 121 / 141 MiB (the
 * run-time `gc` alone: 136 / 123 / 126), 1 GiB PATCH 528 MB/s, PUT 550 (one run each; README).
 */
const ON_DENO = "deno" in versions;
const DENO_RELEASE_EVERY = 16;
// Read once at load: turning --expose-gc on later (runTimeGc) must not be taken for the start flag.
const GC_AT_START = (globalThis as { gc?: (options?: { type?: "minor" | "major" }) => void }).gc;
/** Started with --expose-gc (on Deno `--v8-flags=--expose-gc`): V8's own gc, which can scavenge. */
export const STARTED_WITH_V8_GC = typeof GC_AT_START === "function";
/** The only `gc` at hand is Deno's run-time one, always a full collection. */
const fullGcOnly = ON_DENO && !STARTED_WITH_V8_GC;
let collections = 0;
const FULL_GC_ARRAY_BUFFER_BYTES = 8 * 1024 * 1024;
const FULL_GC_ARRAY_BUFFER_BYTES_PER_BODY = 2 * 1024 * 1024;

let received = 0;
let gc: ((options?: { type?: "minor" | "major" }) => void) | null | undefined;
let lastActive = 0;
let idleTimer: ReturnType<typeof setTimeout> | undefined;

/**
 * Count request-body bytes and run a young-generation GC (a scavenge) every 4 MiB of them.
 *
 * Why: node:http hands every body chunk over in a freshly allocated ~64 KiB buffer (its parser
 * copies each slice out of the socket buffer). The buffers die young, but V8 frees them only at
 * the next scavenge, and it waits for ~32 MiB of them: a bare node:http server that drops a
 * 1 GiB body peaks at 44 → 88 MiB RSS, and the freed memory stays with the process's malloc.
 * A scavenge every 4 MiB costs ~1 ms (little survives it) and keeps that pile at ~4 MiB: the
 * same sink then peaks at 55 MiB (one every 1 MiB: 52 MiB, at 3x the GC time). There is no
 * setting for it; `gc()` is reached by turning on --expose-gc at run time, which exposes it
 * only in new contexts (globalThis is untouched). Where that is not possible, this does nothing;
 * on Deno that `gc` is a full collection, run less often (fullGcOnly), unless Deno was started
 * with `--v8-flags=--expose-gc`, whose global `gc` scavenges as Node's does.
 */
export function countBodyBytes(bytes: number): void {
  // Per body being read: with 16 uploads at once, a scavenge every 4 MiB in all found 16 queues
  // of live chunks each time, and 16 concurrent pushes ran ~30% slower than without.
  if ((received += bytes) < SCAVENGE_EVERY_BYTES * Math.max(1, openBodies)) return;
  received = 0;
  const collectNow = collect();
  if (!collectNow) return;
  const release = ON_DENO && STARTED_WITH_V8_GC && ++collections % DENO_RELEASE_EVERY === 0 ? runTimeGc() : null;
  if (release) return release();
  if (!fullGcOnly) return collectNow({ type: "minor" });
  // Deno's memoryUsage().external counts array buffers (~12 µs to read); arrayBuffers reads 0 there.
  if (memoryUsage().external > FULL_GC_ARRAY_BUFFER_BYTES + FULL_GC_ARRAY_BUFFER_BYTES_PER_BODY * openBodies) collectNow();
}

let openBodies = 0;

/** A request body started (+1) or ended (-1) being read; see countBodyBytes. */
export function countOpenBodies(change: 1 | -1): void {
  openBodies += change;
}

/**
 * Note a request. Once requests stop for IDLE_MS, one full collection runs: V8 collects only
 * when it allocates, so after a burst the dead buffers of the last requests and a young
 * generation grown under load (32 MiB after a manifest GET burst) stayed until the next
 * request; the full collection frees them and lets V8 shrink the young generation.
 */
export function noteRequest(): void {
  lastActive = Date.now();
  idleTimer ??= setTimeout(checkIdle, IDLE_MS).unref();
}

function checkIdle(): void {
  const quiet = Date.now() - lastActive;
  if (quiet < IDLE_MS) {
    idleTimer = setTimeout(checkIdle, IDLE_MS - quiet).unref();
    return;
  }
  idleTimer = undefined;
  // On Deno the run-time gc's low-memory collection, which also hands pooled pages back.
  (ON_DENO ? runTimeGc() : collect())?.({ type: "major" });
}

/** The gc to run: V8's from the start flag (it takes {type: "minor"} on Deno too, ~0.07 ms a scavenge), else the run-time one. */
function collect() {
  if (gc === undefined) gc = GC_AT_START ?? runTimeGc();
  return gc;
}

let exposedAtRunTime: typeof gc;
/** The `gc` that turning on --expose-gc now gives a new context (Node: V8's; Deno: a low-memory collection). */
function runTimeGc() {
  if (exposedAtRunTime !== undefined) return exposedAtRunTime;
  try {
    setFlagsFromString("--expose-gc");
    exposedAtRunTime = (runInNewContext("typeof gc === 'function' ? gc : undefined") as typeof gc) ?? null;
  } catch {
    exposedAtRunTime = null;
  }
  return exposedAtRunTime;
}
