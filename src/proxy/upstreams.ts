/**
 * Which repositories are a pull-through cache, of which upstream. An upstream without a
 * namespace mirrors every repository (docker's `registry-mirrors`: `library/busybox` is the
 * upstream's `library/busybox`); one with a namespace serves `<namespace>/<name>` from the
 * upstream's `<name>`, and everything outside the proxied namespaces stays a normal repository.
 */
import { ConfigError } from "../config/values.ts";

export interface UpstreamOptions {
  /** Leading name component(s) served from this upstream, e.g. `docker.io`; "" for every name. */
  namespace: string;
  /** Origin of the upstream registry, e.g. `https://registry-1.docker.io` (no credentials in it). */
  url: string;
  username?: string;
  password?: string;
}

export interface ProxiedName {
  upstream: UpstreamOptions;
  /** The repository name at the upstream. */
  remote: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;

/** The upstream serving `name`, if any: the longest matching namespace wins. */
export function matchUpstream(upstreams: UpstreamOptions[], name: string): ProxiedName | undefined {
  let best: UpstreamOptions | undefined;
  for (const upstream of upstreams) {
    const ns = upstream.namespace;
    const matches = ns === "" || name.startsWith(`${ns}/`);
    if (matches && (!best || ns.length > best.namespace.length)) best = upstream;
  }
  if (!best) return undefined;
  return { upstream: best, remote: best.namespace === "" ? name : name.slice(best.namespace.length + 1) };
}

/**
 * Config check of `proxy.upstreams`: each entry is `URL`, `NAMESPACE=URL` (flags, variables)
 * or `{namespace, url, username, password}` (the file). Credentials may be written in the
 * URL (`https://user:pass@host`); they are taken out of it, and no message repeats them.
 */
export function checkUpstreams(value: unknown, source: string): UpstreamOptions[] {
  const entries = Array.isArray(value) ? value : [value];
  const upstreams = entries.map((entry, i) => checkEntry(entry, entries.length > 1 ? `${source}[${i}]` : source));
  const seen = new Set<string>();
  for (const { namespace } of upstreams) {
    if (seen.has(namespace)) throw new ConfigError(`${source}: namespace ${namespace === "" ? "(every repository)" : `"${namespace}"`} is given twice`);
    seen.add(namespace);
  }
  return upstreams;
}

function checkEntry(entry: unknown, source: string): UpstreamOptions {
  if (typeof entry === "string") {
    const eq = entry.indexOf("=");
    const hasNamespace = eq > 0 && !entry.slice(0, eq).includes("/");
    return checkEntry({ namespace: hasNamespace ? entry.slice(0, eq) : "", url: hasNamespace ? entry.slice(eq + 1) : entry }, source);
  }
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) throw new ConfigError(`${source}: expected URL, NAMESPACE=URL or {namespace, url, username, password}`);
  const { namespace = "", url, username, password, ...rest } = entry as Record<string, unknown>;
  if (Object.keys(rest).length) throw new ConfigError(`${source}: unknown key ${Object.keys(rest)[0]} (known: namespace, url, username, password)`);
  if (typeof namespace !== "string" || (namespace !== "" && !namespace.split("/").every((c) => COMPONENT.test(c)))) {
    throw new ConfigError(`${source}: namespace ${JSON.stringify(namespace)} is not a repository name prefix (lowercase components like docker.io or ghcr.io)`);
  }
  for (const [key, v] of [["username", username], ["password", password]] as const) {
    if (v !== undefined && typeof v !== "string") throw new ConfigError(`${source}: ${key} must be a string`);
  }
  const parsed = typeof url === "string" ? safeUrl(url) : undefined;
  if (!parsed || !/^https?:$/.test(parsed.protocol) || (parsed.pathname !== "/" && parsed.pathname !== "") || parsed.search || parsed.hash) {
    throw new ConfigError(`${source}: upstream must be an http(s) URL with no path, like https://registry-1.docker.io`);
  }
  const user = (username as string | undefined) ?? (parsed.username ? decodeURIComponent(parsed.username) : undefined);
  const pass = (password as string | undefined) ?? (parsed.password ? decodeURIComponent(parsed.password) : undefined);
  if (pass !== undefined && user === undefined) throw new ConfigError(`${source}: a password needs a username`);
  return { namespace, url: parsed.origin, username: user, password: user !== undefined ? (pass ?? "") : undefined };
}

function safeUrl(text: string): URL | undefined {
  try {
    return new URL(text.trim());
  } catch {
    return undefined;
  }
}
