/**
 * Garbage collection as a sequence of bounded steps over a plain state (state.ts), so the same
 * collection runs to the end (`berth gc`), a step at a time between requests
 * (`serve --gc-interval`), or in Cron slices that resume from `gc/state.json` (Workers).
 *
 *   start    remove sweep marks a crashed run left; list the catalog
 *   plan     per repository: retention, untagged manifests, mark what kept manifests name
 *   blobs    per page of blobs: sweep the unmarked ones that are old (sweep.ts)
 *   tidy     per repository: dangling links; the catalog entry of an empty repository
 *   uploads  per page of sessions: purge the expired
 */
import { GC_STATE_KEY } from "../paths.ts";
import type { BlobStore } from "../storage/blob-store.ts";
import { planRepository } from "./plan.ts";
import { newGcState, parseGcState, serializeGcState, type GcObserver, type GcOptions, type GcPhase, type GcReport, type GcState } from "./state.ts";
import { removeStaleSweepMarks, sweepBlobPage, tidyRepository } from "./sweep.ts";
import { purgeUploadPage } from "./uploads.ts";
import { listRepositories, readText } from "./walk.ts";

/** Do one bounded unit of work. */
export async function stepGc(store: BlobStore, state: GcState): Promise<void> {
  switch (state.phase) {
    case "start":
      await removeStaleSweepMarks(store);
      return enterRepositoryPhase(store, state, "plan");
    case "plan":
      if (state.index < state.repos.length) return void (await planRepository(store, state, state.repos[state.index++]!));
      state.phase = "blobs";
      state.cursor = undefined;
      return;
    case "blobs":
      if (await sweepBlobPage(store, state)) return;
      return enterRepositoryPhase(store, state, "tidy");
    case "tidy":
      if (state.index < state.repos.length) return void (await tidyRepository(store, state, state.repos[state.index++]!));
      state.phase = "uploads";
      state.cursor = undefined;
      return;
    case "uploads":
      if (await purgeUploadPage(store, state)) return;
      state.phase = "done";
      state.report.finishedAt = new Date().toISOString();
      return;
    case "done":
      return;
  }
}

async function enterRepositoryPhase(store: BlobStore, state: GcState, phase: "plan" | "tidy"): Promise<void> {
  state.phase = phase;
  state.repos = await listRepositories(store);
  state.index = 0;
}

/** A whole collection, start to end. */
export async function collectGarbage(store: BlobStore, options: GcOptions): Promise<GcReport> {
  const state = newGcState(options);
  while (state.phase !== "done") await stepGc(store, state);
  return state.report;
}

/**
 * Workers: continue the collection stored in `gc/state.json` (or start one when the last has
 * finished, at least `intervalMs` after it started) for about `budgetMs`, then store where it
 * stopped. Returns the report when this slice finished a collection.
 */
export async function collectGarbageSlice(store: BlobStore, options: GcOptions, budgetMs: number, intervalMs = 0, observer?: GcObserver): Promise<GcReport | undefined> {
  const text = await readText(store, GC_STATE_KEY);
  let state = text ? parseGcState(text) : null;
  if (!state || (state.phase === "done" && Date.now() - state.startedAt >= intervalMs)) {
    state = newGcState(options);
    observer?.started();
  } else if (state.phase === "done") return undefined;
  const until = Date.now() + budgetMs;
  const done = () => (state.phase as GcPhase) === "done";
  do await stepGc(store, state); // at least one step, so every slice makes progress
  while (!done() && Date.now() < until);
  await store.put(GC_STATE_KEY, new TextEncoder().encode(serializeGcState(state)));
  if (!done()) return undefined;
  observer?.finished(state.report);
  return state.report;
}
