/**
 * `berth serve --gc-interval`: the same collection in the background, one bounded step at a
 * time with a pause between steps, so requests keep the event loop; the next run starts one
 * interval after the last one ended. Portable (timers only): Node and Deno call it alike.
 */
import type { BlobStore } from "../storage/blob-store.ts";
import { stepGc } from "./collector.ts";
import { formatGcReport } from "./report.ts";
import { newGcState, type GcObserver, type GcOptions } from "./state.ts";

/** Pause between two steps of a background collection. */
const STEP_PAUSE_MS = 5;

export interface GcSchedule {
  /** Stop after the step in progress; resolves when it has ended. */
  stop(): Promise<void>;
}

/** `observer`: the serving registry's (`registry.gcObserver`), so its /metrics count the runs. */
export function startGcSchedule(store: BlobStore, options: GcOptions, intervalMs: number, log: (line: string) => void, observer?: GcObserver): GcSchedule {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<void> | undefined;
  const collect = async () => {
    const state = newGcState(options);
    observer?.started();
    while (state.phase !== "done" && !stopped) {
      await stepGc(store, state);
      await new Promise((resolve) => setTimeout(resolve, STEP_PAUSE_MS));
    }
    if (stopped) return;
    observer?.finished(state.report);
    log(`berth gc: ${formatGcReport(state.report, false).trimEnd().split("\n").join("; ")}`);
  };
  const schedule = () => {
    timer = setTimeout(() => {
      running = collect()
        .catch((error) => {
          observer?.failed();
          log(`berth gc: failed: ${error instanceof Error ? error.message : String(error)}`);
        })
        .finally(() => void (stopped || schedule()));
    }, intervalMs);
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      await running;
    },
  };
}
