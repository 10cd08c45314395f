// What `berth serve --workers N` says between its primary and its workers, over node:cluster's
// IPC channel. Every message carries `berth` so that anything else
// on the channel (node:cluster's own traffic) is told apart.
import type { MetricsSnapshot } from "../../../src/ops/metrics.ts";

export type ToPrimary =
  /** The worker accepts requests at `url`. */
  | { berth: "listening"; url: string }
  /** The worker's GET /metrics wants the other workers' counts (answered by "snapshots"); its own come along. */
  | { berth: "collect"; id: number; snapshot: MetricsSnapshot }
  /** The worker's counts, for collection `id`. */
  | { berth: "snapshot"; id: number; snapshot: MetricsSnapshot };

export type ToWorker =
  /** This worker runs the background GC schedule (one worker does, not all). */
  | { berth: "run-gc" }
  /** Send your counts for collection `id`. */
  | { berth: "snapshot?"; id: number }
  /** The other workers' counts (and those of workers that have exited), for the worker's request `id`. */
  | { berth: "snapshots"; id: number; snapshots: MetricsSnapshot[] };

/** Set in a worker's environment to its primary's pid: the worker is Berth's, not another cluster's. */
export const WORKER_OF = "BERTH_WORKER_OF";

export function isMessage<M extends { berth: string }>(message: unknown): message is M {
  return typeof message === "object" && message !== null && typeof (message as { berth?: unknown }).berth === "string";
}
