/**
 * Scopes as distribution's docs/spec/auth/scope.md writes them: `repository:team/app:pull,push`,
 * `registry:catalog:*`. Clients send several as repeated `scope=` parameters or space-separated
 * in one (docker's and containerd's POST form, and distribution's challenges).
 */
import type { Scope } from "../routing.ts";
import { validateName } from "../reference.ts";

/** Every well-formed scope in `values` (each may hold several, space-separated); the rest is ignored. */
export function parseScopes(values: string[]): Scope[] {
  const scopes: Scope[] = [];
  for (const text of values.flatMap((value) => value.split(" ")).filter(Boolean)) {
    const first = text.indexOf(":");
    const last = text.lastIndexOf(":");
    if (first <= 0 || last === first) continue;
    const type = text.slice(0, first).replace(/\(.*\)$/, ""); // `repository(plugin)` is still a repository
    const name = text.slice(first + 1, last);
    const actions = [...new Set(text.slice(last + 1).split(",").filter(Boolean))];
    if (actions.length === 0) continue;
    if (type === "repository") {
      try {
        validateName(name);
      } catch {
        continue;
      }
    } else if (!(type === "registry" && name === "catalog")) continue;
    const existing = scopes.find((scope) => scope.type === type && scope.name === name);
    if (existing) existing.actions = [...new Set([...existing.actions, ...actions])];
    else scopes.push({ type, name, actions });
  }
  return scopes;
}

/** `repository:a:pull,push repository:b:pull`: the form of one challenge `scope=` parameter. */
export const formatScopes = (scopes: Scope[]): string => scopes.map((s) => `${s.type}:${s.name}:${s.actions.join(",")}`).join(" ");

/** Whether a token's `access` claim covers `action` on `type:name` (`*` covers every action). */
export function covers(access: Scope[], type: string, name: string, action: string): boolean {
  return access.some((s) => s.type === type && s.name === name && (s.actions.includes(action) || s.actions.includes("*")));
}

/** The `access` claim entries of a decoded token, or null when the claim is malformed. */
export function accessClaim(value: unknown): Scope[] | null {
  if (!Array.isArray(value)) return null;
  const scopes: Scope[] = [];
  for (const entry of value as Record<string, unknown>[]) {
    if (!entry || typeof entry.type !== "string" || typeof entry.name !== "string" || !Array.isArray(entry.actions)) return null;
    scopes.push({ type: entry.type, name: entry.name, actions: entry.actions.filter((a): a is string => typeof a === "string") });
  }
  return scopes;
}
