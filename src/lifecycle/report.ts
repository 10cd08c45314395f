/** What `berth gc` and `berth du` print. */
import type { GcReport } from "./state.ts";
import type { UsageReport } from "./usage.ts";

export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) (value /= 1024), unit++;
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

export function formatGcReport(report: GcReport, verbose = true): string {
  const verb = report.dryRun ? "would remove" : "removed";
  const lines = [
    `${verb} ${report.tags.length} tags, ${report.manifests.length} manifests, ${report.blobs} blobs (${formatBytes(report.bytes)}), ${report.links} links, ${report.uploads} upload sessions, ${report.repositories.length} empty repositories`,
    `examined ${report.examined} blobs; kept ${report.young} unreferenced ones younger than the grace period`,
  ];
  if (verbose) {
    for (const tag of report.tags) lines.push(`  tag ${tag}`);
    for (const manifest of report.manifests) lines.push(`  manifest ${manifest}`);
    for (const name of report.repositories) lines.push(`  repository ${name}`);
  }
  return `${lines.join("\n")}\n`;
}

export function formatUsage(usage: UsageReport): string {
  const width = Math.max(10, ...usage.repositories.map((r) => r.name.length));
  const lines = [`${"REPOSITORY".padEnd(width)}  ${"SIZE".padStart(10)}  ${"ONLY HERE".padStart(10)}`];
  for (const repo of usage.repositories) lines.push(`${repo.name.padEnd(width)}  ${formatBytes(repo.bytes).padStart(10)}  ${formatBytes(repo.exclusiveBytes).padStart(10)}`);
  lines.push(
    "",
    `shared by several repositories (counted once): ${formatBytes(usage.sharedBytes)}`,
    `in no repository (garbage): ${formatBytes(usage.unreferencedBytes)}`,
    `upload sessions: ${formatBytes(usage.uploadBytes)}`,
    `total: ${formatBytes(usage.totalBytes)} in ${usage.blobs} blobs (${usage.totalBytes} bytes)`,
  );
  return `${lines.join("\n")}\n`;
}
