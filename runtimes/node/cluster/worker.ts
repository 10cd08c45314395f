// The worker's side of `berth serve --workers N`: it serves as a single process would, except
// that the primary prints the one "listening" line, picks the worker that runs the GC schedule,
// and relays the other workers' counts for /metrics.
import cluster from "node:cluster";
import process from "node:process";
import { RegistryError } from "../../../src/errors.ts";
import type { MetricsSnapshot } from "../../../src/ops/metrics.ts";
import { isMessage, WORKER_OF, type ToPrimary, type ToWorker } from "./messages.ts";

/** How long a scrape waits for the primary to gather the others' counts (it gives them 2 s). */
const PEERS_TIMEOUT_MS = 5_000;

export interface WorkerLink {
  /** The other workers' counts: `metrics.peers` of this worker's registry. */
  peers(): Promise<MetricsSnapshot[]>;
  /** Answer the primary's requests for this worker's counts from now on. */
  answerSnapshots(snapshot: () => MetricsSnapshot): void;
  /** Calls `start` if and when the primary picks this worker to run the GC schedule. */
  onGcRole(start: () => void): void;
  /** This worker accepts requests at `url`. */
  listening(url: string): void;
}

/**
 * This process's link to its primary, or undefined when it is not a worker of Berth's primary:
 * a worker of another cluster (pm2's cluster mode forks apps with node:cluster too) serves alone.
 */
export function joinCluster(): WorkerLink | undefined {
  if (!cluster.isWorker || process.env[WORKER_OF] !== String(process.ppid)) return undefined;
  const send = (message: ToPrimary) => process.send!(message);
  const waiting = new Map<number, (snapshots: MetricsSnapshot[]) => void>();
  let snapshotOf: (() => MetricsSnapshot) | undefined;
  let startGc: (() => void) | undefined;
  let gcPicked = false;
  let nextId = 1;
  let gathering: Promise<MetricsSnapshot[]> | undefined; // scrapes at the same time share one round
  process.on("message", (message: unknown) => {
    if (!isMessage<ToWorker>(message)) return;
    if (message.berth === "snapshots") waiting.get(message.id)?.(message.snapshots);
    else if (message.berth === "snapshot?") send({ berth: "snapshot", id: message.id, snapshot: snapshotOf?.() ?? {} });
    else if (message.berth === "run-gc") (gcPicked = true), startGc?.();
  });
  return {
    peers() {
      const id = nextId++;
      const unavailable = () => new RegistryError("UNAVAILABLE", null, { message: "the other workers' counts did not arrive; scrape again" });
      gathering ??= new Promise<MetricsSnapshot[]>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(unavailable());
        }, PEERS_TIMEOUT_MS);
        waiting.set(id, (snapshots) => {
          clearTimeout(timer);
          waiting.delete(id);
          resolve(snapshots);
        });
        try {
          send({ berth: "collect", id, snapshot: snapshotOf?.() ?? {} });
        } catch {
          clearTimeout(timer);
          waiting.delete(id);
          reject(unavailable()); // the channel to the primary is closed
        }
      }).finally(() => (gathering = undefined));
      return gathering;
    },
    answerSnapshots: (snapshot) => void (snapshotOf = snapshot),
    onGcRole(start) {
      startGc = start;
      if (gcPicked) start();
    },
    listening: (url) => send({ berth: "listening", url }),
  };
}
