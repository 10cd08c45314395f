import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/** Request-body bytes between two forced scavenges: about the dead buffers allowed to pile up. */
const SCAVENGE_EVERY_BYTES = 4 * 1024 * 1024;

let received = 0;
let scavenge: (() => void) | null | undefined;

/**
 * Count request-body bytes and run a young-generation GC (a scavenge) every 4 MiB of them.
 *
 * Why: node:http hands every body chunk over in a freshly allocated ~64 KiB buffer (its parser
 * copies each slice out of the socket buffer). The buffers die young, but V8 frees them only at
 * the next scavenge, and it waits for ~32 MiB of them: a bare node:http server that drops a
 * 1 GiB body peaks at 44 → 88 MiB RSS, and the freed memory stays with the process's malloc.
 * A scavenge every 4 MiB costs ~1 ms (little survives it) and keeps that pile at ~4 MiB: the
 * same sink then peaks at 55 MiB (one every 1 MiB: 52 MiB, at 3x the GC time). There is no setting for it; `gc()` is reached by turning on
 * --expose-gc at run time, which exposes it only in new contexts (globalThis is untouched).
 * Where that is not possible (a runtime without it), this does nothing.
 */
export function countBodyBytes(bytes: number): void {
  if ((received += bytes) < SCAVENGE_EVERY_BYTES) return;
  received = 0;
  if (scavenge === undefined) scavenge = findScavenge();
  scavenge?.();
}

function findScavenge(): (() => void) | null {
  try {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("typeof gc === 'function' ? gc : undefined") as ((options?: object) => void) | undefined;
    return gc ? () => gc({ type: "minor" }) : null;
  } catch {
    return null;
  }
}
