/**
 * One collection's state: plain data, so a Worker can store it between Cron slices
 * (`gc/state.json`) and resume; the CLI and the in-server schedule keep it in memory.
 */
import { BLOBS_PREFIX } from "../paths.ts";
import type { RetentionRule } from "./retention.ts";
import { TOUCH_INTERVAL_MS } from "./sweep-marks.ts";

export interface GcOptions {
  /** Nothing written, touched or referenced within this long before the run started is collected (ms). */
  graceMs: number;
  /** Collect manifests no tag reaches (except index children and referrers of kept subjects). */
  deleteUntagged: boolean;
  /** Report what would go; change nothing. */
  dryRun: boolean;
  retention: RetentionRule[];
  /** Upload sessions idle longer than this are purged (ms). */
  uploadExpiryMs: number;
  /** Pull-through cache tags not pulled for this long are deleted (ms; 0 or absent: never). */
  cacheTtlMs?: number;
}

export interface GcReport {
  dryRun: boolean;
  startedAt: string;
  finishedAt?: string;
  /** `repo:tag` deleted by a retention rule or the cache TTL. */
  tags: string[];
  /** `repo@digest` collected (untagged, or left untagged by retention). */
  manifests: string[];
  blobs: number;
  bytes: number;
  /** Blobs looked at in the sweep. */
  examined: number;
  /** Unreferenced blobs kept because they were written or touched within the grace period. */
  young: number;
  links: number;
  uploads: number;
  /** Repositories left with nothing, removed from the catalog. */
  repositories: string[];
}

/** Told when a collection starts, ends or fails (the serving process counts them in its metrics). */
export interface GcObserver {
  started(): void;
  finished(report: GcReport): void;
  failed(): void;
}

export type GcPhase = "start" | "plan" | "blobs" | "tidy" | "uploads" | "done";

export interface GcState {
  version: 1;
  startedAt: number;
  options: GcOptions;
  phase: GcPhase;
  /** Repositories of the catalog when the phase began, and the next one to visit. */
  repos: string[];
  index: number;
  /** The last key listed in a paged phase. */
  cursor?: string;
  /** Blobs phase: unmarked blobs waiting for the next sweep batch. */
  pending?: string[];
  /** Digests (manifests and blobs) a kept manifest references. */
  marked: Set<string>;
  /** Revision keys read for marking (a new one found before a sweep is read then). */
  seen: Set<string>;
  report: GcReport;
}

export function newGcState(options: GcOptions, now = Date.now()): GcState {
  return {
    version: 1,
    startedAt: now,
    options,
    phase: "start",
    repos: [],
    index: 0,
    marked: new Set(),
    seen: new Set(),
    report: { dryRun: options.dryRun, startedAt: new Date(now).toISOString(), tags: [], manifests: [], blobs: 0, bytes: 0, examined: 0, young: 0, links: 0, uploads: 0, repositories: [] },
  };
}

/**
 * Objects written (or blobs touched) after this time are young: never collected by this run.
 * The run's start, not the moment of the check, so a run collects only what was already old
 * when it began; with a grace period, a few seconds more for clock differences and touches.
 */
export const youngAfter = (state: GcState) =>
  state.startedAt - state.options.graceMs - (state.options.graceMs > 0 ? TOUCH_INTERVAL_MS : 0);

export const serializeGcState = (state: GcState) => JSON.stringify({ ...state, marked: [...state.marked], seen: [...state.seen] });

export function parseGcState(text: string): GcState | null {
  const { shard, ...data } = JSON.parse(text) as GcState & { marked: string[]; seen: string[]; shard?: number };
  if (data.version !== 1) return null;
  // Saved mid-sweep by a version that listed blobs/ shard by shard (sha256/00 .. sha512/ff),
  // between two shards: go on after those it finished, so no blob is examined twice.
  if (data.phase === "blobs" && data.cursor === undefined && typeof shard === "number" && shard > 0 && shard < 512) {
    data.cursor = `${BLOBS_PREFIX}${shard < 256 ? "sha256" : "sha512"}/${(shard % 256).toString(16).padStart(2, "0")}/`;
  }
  return { ...data, marked: new Set(data.marked), seen: new Set(data.seen) };
}
