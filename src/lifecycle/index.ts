// Storage lifecycle: online garbage collection, retention, upload purging, usage (README, "Storage lifecycle").
import type { Config } from "../config/schema.ts";
import type { BlobStore } from "../storage/blob-store.ts";
import { collectGarbage } from "./collector.ts";
import { formatGcReport, formatUsage } from "./report.ts";
import type { GcOptions } from "./state.ts";
import { measureUsage } from "./usage.ts";

export { collectGarbage, collectGarbageSlice, stepGc } from "./collector.ts";
export { startGcSchedule, type GcSchedule } from "./schedule.ts";
export { measureUsage, type UsageReport } from "./usage.ts";
export { formatBytes, formatGcReport, formatUsage } from "./report.ts";
export { newGcState, type GcObserver, type GcOptions, type GcReport, type GcState } from "./state.ts";
export { checkRetention, type RetentionRule } from "./retention.ts";

/** The collector's options from a configuration (every runtime, every command). */
export const gcOptionsFrom = (config: Config): GcOptions => ({
  graceMs: config.gc.grace,
  deleteUntagged: config.gc.deleteUntagged,
  dryRun: config.gc.dryRun ?? false,
  retention: config.retention,
  uploadExpiryMs: config.uploads.expiry,
  cacheTtlMs: config.gc.cacheTtl,
});

/** `berth gc` and `berth du` on any store: what to print. */
export async function runLifecycleCommand(command: "gc" | "du", store: BlobStore, config: Config): Promise<string> {
  if (command === "du") return formatUsage(await measureUsage(store));
  return formatGcReport(await collectGarbage(store, gcOptionsFrom(config)));
}
