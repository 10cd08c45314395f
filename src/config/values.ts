/**
 * Value parsers of the configuration. Each takes what a source gave (a string from a flag or
 * a BERTH_* variable, or any YAML/JSON value from the config file) and returns the typed value
 * or throws a ConfigError naming where the bad value came from.
 */

/** A configuration problem: the message names the flag, variable or file key at fault. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** A file the configuration points at, or (Workers secrets, inline config) its contents. */
export type FileRef = { path: string } | { text: string };

export type ValueKind = "string" | "boolean" | "port" | "count" | "positive" | "duration" | "bytes" | "list" | "file" | "object" | "document";

/** A document option (the policy): a file, its contents (Workers), or written inline in the config file. */
export type DocumentRef = FileRef | { data: object };

const fail = (source: string, expected: string, value: unknown): never => {
  throw new ConfigError(`${source}: expected ${expected}, got ${JSON.stringify(value)}`);
};

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `30m`, `1h30m`, `7d`, `250ms`; a bare number is seconds. Returns milliseconds. */
export function parseDuration(value: unknown, source: string): number {
  if (typeof value === "number" && value >= 0 && Number.isFinite(value)) return value * 1000;
  const text = typeof value === "string" ? value.trim() : "";
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)];
  if (!text || parts.map((p) => p[0]).join("") !== text) return fail(source, "a duration like 90s, 30m, 1h or 7d", value);
  return parts.reduce((ms, [, n, unit]) => ms + Number(n) * UNITS[unit!]!, 0);
}

const SIZES: Record<string, number> = { "": 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3 };

/** `4MiB`, `512k`, `1g`, or a plain number of bytes (binary units: 1k = 1024). */
export function parseBytes(value: unknown, source: string): number {
  if (typeof value === "number" && Number.isInteger(value) && value >= 0) return value;
  const match = typeof value === "string" ? value.trim().toLowerCase().match(/^(\d+)\s*([a-z]*)$/) : null;
  const unit = match ? SIZES[match[2]!] : undefined;
  if (!match || unit === undefined) return fail(source, "a size like 4MiB, 512k or a number of bytes", value);
  return Number(match[1]) * unit;
}

export function parseBoolean(value: unknown, source: string): boolean {
  if (typeof value === "boolean") return value;
  const text = typeof value === "string" ? value.trim().toLowerCase() : "";
  if (["1", "true", "yes", "on"].includes(text)) return true;
  if (["0", "false", "no", "off", ""].includes(text)) return false;
  return fail(source, "true or false", value);
}

function parseInteger(value: unknown, source: string, min: number, max: number, expected: string): number {
  const number = typeof value === "number" ? value : typeof value === "string" && /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isInteger(number) || number < min || number > max) return fail(source, expected, value);
  return number;
}

/** A list: a YAML/JSON array of strings, or a comma-separated string. */
export function parseList(value: unknown, source: string): string[] {
  if (Array.isArray(value) && value.every((item) => typeof item === "string")) return value.map((item) => item.trim()).filter(Boolean);
  if (typeof value === "string") return value.split(",").map((item) => item.trim()).filter(Boolean);
  return fail(source, "a list of strings", value);
}

export function parseString(value: unknown, source: string): string {
  if (typeof value === "string" && value !== "") return value;
  if (typeof value === "number") return String(value);
  return fail(source, "a non-empty string", value);
}

export function parseValue(kind: ValueKind, value: unknown, source: string): unknown {
  switch (kind) {
    case "string": return parseString(value, source);
    case "boolean": return parseBoolean(value, source);
    case "port": return parseInteger(value, source, 0, 65535, "a port number 0-65535");
    case "count": return parseInteger(value, source, 0, 2 ** 31, "a whole number");
    case "positive": return parseInteger(value, source, 1, 2 ** 31, "a whole number above 0");
    case "duration": return parseDuration(value, source);
    case "bytes": return parseBytes(value, source);
    case "list": return parseList(value, source);
    case "file": return { path: parseString(value, source) } satisfies FileRef;
    case "document":
      if (typeof value === "string") return { path: parseString(value, source) } satisfies FileRef;
      if (value === null || typeof value !== "object" || Array.isArray(value)) return fail(source, "a file name or a mapping", value);
      return { data: value } satisfies DocumentRef;
    case "object":
      if (value === null || typeof value !== "object") return fail(source, "a mapping or list", value);
      return value;
  }
}
