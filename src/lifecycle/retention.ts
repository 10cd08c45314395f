/**
 * Retention policies from the configuration file: per repository glob, which tags to keep.
 * The first rule whose `repositories` glob matches a repository governs it; every other tag
 * there is deleted by the collector, and its manifests are then collected as untagged.
 *
 *   retention:
 *     - repositories: "team/**"   # globs: * within a path segment, ** across segments
 *       keepLast: 10              # the 10 most recently pushed tags
 *       keepTags: ["latest", "v*"]
 *       keepWithin: 30d           # tags pushed in the last 30 days
 */
import { ConfigError, parseDuration, parseList } from "../config/values.ts";

export interface RetentionRule {
  repositories: string;
  keepLast?: number;
  keepTags?: string[];
  /** ms */
  keepWithin?: number;
}

const RULE_KEYS = new Set(["repositories", "keepLast", "keepTags", "keepWithin"]);

/** The option table's `check` for `retention`: a list of rules, validated and typed. */
export function checkRetention(value: unknown, source: string): RetentionRule[] {
  if (!Array.isArray(value)) throw new ConfigError(`${source}: expected a list of rules ({repositories, keepLast, keepTags, keepWithin})`);
  return value.map((raw, i) => {
    const where = `${source}[${i}]`;
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw new ConfigError(`${where}: expected a mapping`);
    const rule = raw as Record<string, unknown>;
    const unknown = Object.keys(rule).find((key) => !RULE_KEYS.has(key));
    if (unknown) throw new ConfigError(`${where}.${unknown}: unknown key (known: ${[...RULE_KEYS].join(", ")})`);
    if (typeof rule.repositories !== "string" || rule.repositories === "") throw new ConfigError(`${where}.repositories: expected a glob such as "team/*"`);
    const keepLast = rule.keepLast;
    if (keepLast !== undefined && (typeof keepLast !== "number" || !Number.isInteger(keepLast) || keepLast < 0)) {
      throw new ConfigError(`${where}.keepLast: expected a whole number, got ${JSON.stringify(keepLast)}`);
    }
    const out: RetentionRule = { repositories: rule.repositories };
    if (keepLast !== undefined) out.keepLast = keepLast as number;
    if (rule.keepTags !== undefined) out.keepTags = parseList(rule.keepTags, `${where}.keepTags`);
    if (rule.keepWithin !== undefined) out.keepWithin = parseDuration(rule.keepWithin, `${where}.keepWithin`);
    if (out.keepLast === undefined && out.keepTags === undefined && out.keepWithin === undefined) {
      throw new ConfigError(`${where}: keeps nothing; give keepLast, keepTags or keepWithin (a rule that deletes every tag is a mistake waiting to happen)`);
    }
    return out;
  });
}

const globCache = new Map<string, RegExp>();

/** `*` matches within a path segment, `**` across segments, `?` one character. */
export function matchesGlob(glob: string, text: string): boolean {
  let regex = globCache.get(glob);
  if (!regex) {
    const source = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*\*|\*|\?/g, (m) => (m === "**" ? ".*" : m === "*" ? "[^/]*" : "[^/]"));
    globCache.set(glob, (regex = new RegExp(`^${source}$`)));
  }
  return regex.test(text);
}

export const ruleFor = (rules: RetentionRule[], name: string): RetentionRule | undefined => rules.find((rule) => matchesGlob(rule.repositories, name));

/** The tags a rule keeps, from each tag's push time (ms). */
export function keptTags(rule: RetentionRule, tags: { tag: string; pushedAtMs: number }[], now: number): Set<string> {
  const kept = new Set<string>();
  const newest = [...tags].sort((a, b) => b.pushedAtMs - a.pushedAtMs || (a.tag < b.tag ? -1 : 1));
  for (const { tag } of newest.slice(0, rule.keepLast ?? 0)) kept.add(tag);
  for (const { tag, pushedAtMs } of tags) {
    if (rule.keepTags?.some((pattern) => matchesGlob(pattern, tag))) kept.add(tag);
    if (rule.keepWithin !== undefined && pushedAtMs > now - rule.keepWithin) kept.add(tag);
  }
  return kept;
}
