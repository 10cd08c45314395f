/**
 * The access policy: groups of users and rules granting actions on repository globs.
 * Grants are the union of every rule that matches the repository and the caller; no match,
 * no access. `*` matches within one path component, `**` any number of components (none too).
 * `anonymous: true` applies to every caller, signed in or not (a user never gets less than
 * anonymous); `users: ["*"]` to any authenticated user.
 */
import { parseDocument } from "../config/document.ts";
import { BoundedCache, stringBytes } from "../bounded-cache.ts";

export type PolicyAction = "pull" | "push" | "delete";
const ACTIONS: PolicyAction[] = ["pull", "push", "delete"];

export interface Policy {
  /** Actions `user` (null: anonymous) may do on `repository`. */
  actionsFor(user: string | null, repository: string): ReadonlySet<PolicyAction>;
}

interface Rule {
  repositories: RegExp[];
  anonymous: boolean;
  anyUser: boolean;
  users: Set<string>;
  actions: PolicyAction[];
}

/** A policy from YAML or JSON text. Throws an Error naming the problem. */
export async function parsePolicyText(text: string): Promise<Policy> {
  return parsePolicy(await parseDocument(text));
}

/** A policy from its parsed document `{groups, rules}`. Throws an Error naming the problem. */
export function parsePolicy(data: unknown): Policy {
  if (!isObject(data)) throw new Error("expected a mapping with rules (and groups)");
  unknownKeys(data, ["groups", "rules"], "");
  const groups = new Map<string, string[]>();
  if (data.groups !== undefined) {
    if (!isObject(data.groups)) throw new Error("groups: expected a mapping of group name to users");
    for (const [name, members] of Object.entries(data.groups)) groups.set(name, strings(members, `groups.${name}`));
  }
  if (!Array.isArray(data.rules) || data.rules.length === 0) throw new Error("rules: expected a list of rules");
  const rules = data.rules.map((raw, index) => parseRule(raw, `rules[${index}]`, groups));
  return compile(rules);
}

function parseRule(raw: unknown, where: string, groups: Map<string, string[]>): Rule {
  if (!isObject(raw)) throw new Error(`${where}: expected a mapping`);
  unknownKeys(raw, ["repositories", "anonymous", "users", "groups", "actions"], where);
  const repositories = strings(raw.repositories, `${where}.repositories`).map((glob) => globToRegExp(glob, `${where}.repositories`));
  if (raw.anonymous !== undefined && typeof raw.anonymous !== "boolean") throw new Error(`${where}.anonymous: expected true or false`);
  const users = new Set(raw.users === undefined ? [] : strings(raw.users, `${where}.users`));
  for (const group of raw.groups === undefined ? [] : strings(raw.groups, `${where}.groups`)) {
    const members = groups.get(group);
    if (!members) throw new Error(`${where}.groups: unknown group "${group}"${groups.size ? ` (groups: ${[...groups.keys()].join(", ")})` : ""}`);
    for (const member of members) users.add(member);
  }
  const anonymous = raw.anonymous === true;
  if (!anonymous && users.size === 0 && raw.groups === undefined) throw new Error(`${where}: applies to nobody (give anonymous: true, users or groups)`);
  const actions = new Set<PolicyAction>();
  for (const action of strings(raw.actions, `${where}.actions`)) {
    if (action === "*") ACTIONS.forEach((a) => actions.add(a));
    else if ((ACTIONS as string[]).includes(action)) actions.add(action as PolicyAction);
    else throw new Error(`${where}.actions: unknown action "${action}" (pull, push, delete or *)`);
  }
  return { repositories, anonymous, anyUser: users.delete("*"), users, actions: [...actions] };
}

function compile(rules: Rule[]): Policy {
  // Every request asks; the answer per (caller, repository) is remembered until the next reload.
  const cache = new BoundedCache<ReadonlySet<PolicyAction>>(1024 * 1024, (key, actions) => stringBytes(key) + 64 + 16 * actions.size);
  return {
    actionsFor(user, repository) {
      const key = `${user ?? ""}\u0000${repository}`;
      let actions = cache.get(key);
      if (actions) return actions;
      const granted = new Set<PolicyAction>();
      for (const rule of rules) {
        const applies = rule.anonymous || (user !== null && (rule.anyUser || rule.users.has(user)));
        if (applies && rule.repositories.some((glob) => glob.test(repository))) rule.actions.forEach((a) => granted.add(a));
      }
      actions = granted;
      cache.set(key, actions);
      return actions;
    },
  };
}

/** `team/**`, `*`/app, `team/app-*`: `*` stays inside a component, `**` spans any number of them. */
export function globToRegExp(glob: string, where = "repositories"): RegExp {
  if (!/^[a-z0-9._\-/*]+$/.test(glob) || glob.startsWith("/") || glob.endsWith("/") || glob.includes("//") || glob.includes("**/**")) {
    throw new Error(`${where}: "${glob}" is not a repository glob (lowercase names, / between components, * and **)`);
  }
  const parts = glob.split("/");
  let source = "";
  parts.forEach((part, index) => {
    const afterDoubleStar = index > 0 && parts[index - 1] === "**";
    if (part === "**") {
      const last = index === parts.length - 1;
      if (last) source += index === 0 ? "[^]*" : "(?:/[^/]+)*";
      else source += `${index === 0 ? "" : "/"}(?:[^/]+/)*`;
      return;
    }
    if (part.includes("**")) throw new Error(`${where}: "${glob}": ** must be a whole component`);
    source += (index === 0 || afterDoubleStar ? "" : "/") + part.replace(/[.\-]/g, "\\$&").replace(/\*/g, "[^/]*");
  });
  return new RegExp(`^${source}$`);
}

/**
 * The policy the old options stand for, when no policy file is given: every user may do
 * everything, `readOnlyUsers` only pull, and with `anonymousPull` anyone may pull.
 */
export function shorthandPolicy(users: Iterable<string>, options: { anonymousPull?: boolean; readOnlyUsers?: string[] }): Policy {
  const readOnly = new Set(options.readOnlyUsers ?? []);
  const writers = [...users].filter((user) => !readOnly.has(user));
  const rules: unknown[] = [];
  if (writers.length) rules.push({ repositories: ["**"], users: writers, actions: ["*"] });
  rules.push({ repositories: ["**"], users: ["*"], actions: ["pull"] });
  if (options.anonymousPull) rules.push({ repositories: ["**"], anonymous: true, actions: ["pull"] });
  return parsePolicy({ rules });
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === "object" && !Array.isArray(value);

function strings(value: unknown, where: string): string[] {
  if (!Array.isArray(value) || !value.every((item) => typeof item === "string" && item !== "")) throw new Error(`${where}: expected a list of names`);
  return value as string[];
}

function unknownKeys(object: Record<string, unknown>, known: string[], where: string): void {
  for (const key of Object.keys(object)) if (!known.includes(key)) throw new Error(`${where ? `${where}.` : ""}${key}: unknown key (${known.join(", ")})`);
}
