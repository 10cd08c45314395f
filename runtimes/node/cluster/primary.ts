// The primary of `berth serve --workers N` (node:cluster; Node only, see runtimes/deno/main.ts). It serves
// nothing itself: it starts the workers (the first alone, so a bad configuration or an unusable
// store is reported once and stops the start), prints the one "listening" line, replaces a
// worker that dies, passes SIGHUP on, drains every worker on SIGINT/SIGTERM, and gathers the
// workers' counts when one of them is scraped.
import cluster, { type Worker } from "node:cluster";
import process from "node:process";
import { retireSnapshot, type MetricsSnapshot } from "../../../src/ops/metrics.ts";
import type { Logger } from "../../../src/ops/log.ts";
import { isMessage, WORKER_OF, type ToPrimary, type ToWorker } from "./messages.ts";

export interface PrimaryOptions {
  workers: number;
  logger: Logger;
  /** What the listening line says after the URL, e.g. "storage ./data". */
  describe: string;
  /** One worker runs the GC schedule (`--gc-interval`). */
  gc: boolean;
}

/** How long a scrape waits for the other workers' counts (asked all at once); a late one's last counts stand in. */
const SNAPSHOT_TIMEOUT_MS = 2_000;
/** A worker that dies sooner than this after it was started is started again after a pause (doubling to 30 s). */
const STEADY_MS = 10_000;
const MAX_RESTART_PAUSE_MS = 30_000;
/** Workers drain for up to 10 s (http-server.ts) and then close; past this they are killed. */
const STOP_TIMEOUT_MS = 15_000;

interface Collection {
  asker: Worker;
  askerId: number;
  missing: Set<Worker>;
  snapshots: MetricsSnapshot[];
  timer: ReturnType<typeof setTimeout>;
}

/** Resolves once every worker listens; then the process runs until a signal stops it. */
export function runPrimary(options: PrimaryOptions): Promise<void> {
  const { workers: count, logger, describe, gc } = options;
  const slots: Array<Worker | undefined> = new Array(count).fill(undefined);
  const serving = new Set<Worker>();
  const collections = new Map<number, Collection>();
  // Sums over workers must never go down (Prometheus reads a drop as a counter reset): each
  // worker's last counts stand in for it when it is late, and are kept once it has exited.
  const lastCounts = new Map<Worker, MetricsSnapshot>();
  let retired: MetricsSnapshot = {};
  const restartPause: number[] = new Array(count).fill(0);
  let nextCollection = 1;
  let stopping = false;
  let forkedRest = false;
  let up = false;
  let url: string | undefined;

  return new Promise<void>((started) => {
    const send = (worker: Worker, message: ToWorker) => {
      if (worker.isConnected()) worker.send(message);
    };
    const finish = (id: number) => {
      const collection = collections.get(id);
      if (!collection) return;
      clearTimeout(collection.timer);
      collections.delete(id);
      if (collection.missing.size) logger.warn(`berth: /metrics used the last counts of ${collection.missing.size} worker(s) that did not answer in ${SNAPSHOT_TIMEOUT_MS} ms`);
      const late = [...collection.missing].map((worker) => lastCounts.get(worker)).filter((counts): counts is MetricsSnapshot => counts !== undefined);
      send(collection.asker, { berth: "snapshots", id: collection.askerId, snapshots: [...collection.snapshots, ...late, retired] });
    };
    const collect = (asker: Worker, askerId: number, own: MetricsSnapshot) => {
      lastCounts.set(asker, own);
      const id = nextCollection++;
      const others = [...serving].filter((worker) => worker !== asker);
      collections.set(id, { asker, askerId, missing: new Set(others), snapshots: [], timer: setTimeout(() => finish(id), SNAPSHOT_TIMEOUT_MS) });
      for (const worker of others) send(worker, { berth: "snapshot?", id });
      if (!others.length) finish(id);
    };
    const answered = (worker: Worker, id: number, snapshot: MetricsSnapshot) => {
      const collection = collections.get(id);
      if (!collection?.missing.delete(worker)) return;
      lastCounts.set(worker, snapshot);
      collection.snapshots.push(snapshot);
      if (!collection.missing.size) finish(id);
    };

    const fork = (index: number) => {
      const worker = cluster.fork({ [WORKER_OF]: String(process.pid) });
      const forkedAt = Date.now();
      slots[index] = worker;
      let listening = false;
      worker.on("message", (message: unknown) => {
        if (!isMessage<ToPrimary>(message)) return;
        if (message.berth === "collect") return collect(worker, message.id, message.snapshot);
        if (message.berth === "snapshot") return answered(worker, message.id, message.snapshot);
        if (stopping) return; // listening, but the server is on its way down
        listening = true;
        serving.add(worker);
        url ??= message.url;
        if (gc && index === 0) send(worker, { berth: "run-gc" });
        if (up) return logger.info(`berth: worker ${index + 1} of ${count} (pid ${worker.process.pid}) serving again`);
        if (!forkedRest) {
          forkedRest = true; // the first worker started: the configuration and the store are good
          for (let next = 1; next < count; next++) fork(next);
        }
        if (slots.every((slot) => slot && serving.has(slot))) {
          up = true;
          logger.info(`berth listening on ${url} (${describe}, ${count} workers)`);
          started();
        }
      });
      worker.on("exit", (code, signal) => {
        serving.delete(worker);
        const last = lastCounts.get(worker);
        if (last) retired = retireSnapshot(retired, last);
        lastCounts.delete(worker);
        for (const [id, collection] of collections) if (collection.missing.delete(worker) && !collection.missing.size) finish(id);
        if (slots[index] === worker) slots[index] = undefined;
        if (stopping) return;
        const how = signal ? `signal ${signal}` : `code ${code}`;
        if (!up && !listening) {
          // A first start that fails (bad configuration, unusable store, port taken) will fail again.
          logger.error(`berth: worker ${index + 1} of ${count} exited during start-up (${how}); stopping`);
          void stopAll(typeof code === "number" && code !== 0 ? code : 1);
          return;
        }
        // Later deaths are replaced; one that keeps dying young waits longer each time.
        const pause = (restartPause[index] = Date.now() - forkedAt < STEADY_MS ? Math.min(MAX_RESTART_PAUSE_MS, Math.max(500, restartPause[index]! * 2)) : 0);
        logger.warn(`berth: worker ${index + 1} of ${count} (pid ${worker.process.pid}) exited (${how}); starting another${pause ? ` in ${pause / 1000} s` : ""}`);
        setTimeout(() => stopping || fork(index), pause);
      });
    };

    const stopAll = async (exitCode: number) => {
      if (stopping) return;
      stopping = true;
      const alive = slots.filter((worker): worker is Worker => worker !== undefined && worker.process.exitCode === null && worker.process.signalCode === null);
      const exited = alive.map((worker) => new Promise<void>((resolve) => worker.once("exit", () => resolve())));
      for (const worker of alive) worker.process.kill("SIGTERM");
      const timer = setTimeout(() => alive.forEach((worker) => worker.process.kill("SIGKILL")), STOP_TIMEOUT_MS);
      await Promise.all(exited);
      clearTimeout(timer);
      if (exitCode === 0) logger.info("berth stopped");
      process.exit(exitCode);
    };
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      process.once(signal, () => {
        logger.info(`berth: ${signal}, finishing in-flight requests in ${serving.size} workers`);
        void stopAll(0);
      });
    }
    // Re-read the htpasswd file and the policy: every worker does it for itself.
    process.on("SIGHUP", () => serving.forEach((worker) => worker.process.kill("SIGHUP")));
    fork(0);
  });
}
