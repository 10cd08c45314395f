/**
 * HTTP Basic credentials and htpasswd users. The htpasswd parser is strict: a line it cannot
 * use is an error naming the line, never a silently missing user. bcrypt is slow on purpose
 * (~11 ms at cost 5), so a checked user:password is remembered for a minute, keyed by a
 * SHA-256 of user, password and hash: a changed password or a removed user misses the cache.
 */
import { BoundedCache, stringBytes } from "../bounded-cache.ts";

/** bcryptjs is imported on the first password check, not at start-up (only logins need it). */
let bcrypt: Promise<typeof import("bcryptjs")> | undefined;

/** `Basic base64(user:password)`; empty credentials count as none (some clients send them). */
export function parseBasicAuth(header: string | null): { user: string; password: string } | null {
  const match = header?.match(/^Basic\s+([A-Za-z0-9+/=]+)\s*$/i);
  if (!match) return null;
  let decoded: string;
  try {
    decoded = new TextDecoder().decode(Uint8Array.from(atob(match[1]!), (c) => c.charCodeAt(0)));
  } catch {
    return null;
  }
  const colon = decoded.indexOf(":");
  if (colon < 0) return null;
  const user = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  return user === "" && password === "" ? null : { user, password };
}

/** user -> bcrypt hash. Throws an Error naming the first unusable line, or saying there is no user. */
export function parseHtpasswd(text: string): Map<string, string> {
  const users = new Map<string, string>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const where = `line ${index + 1}`;
    const colon = line.indexOf(":");
    if (colon <= 0) throw new Error(`${where}: expected user:hash`);
    const user = line.slice(0, colon);
    const hash = line.slice(colon + 1);
    if (!/^\$2[abxy]\$\d\d\$[./A-Za-z0-9]{53}$/.test(hash)) throw new Error(`${where}: the entry for "${user}" is not a bcrypt hash (create it with htpasswd -B)`);
    if (users.has(user)) throw new Error(`${where}: "${user}" appears twice`);
    users.set(user, hash.replace(/^\$2y\$/, "$2b$"));
  });
  if (users.size === 0) throw new Error("no users (add one with htpasswd -B FILE USER)");
  return users;
}

const CACHE_MS = 60_000;

/** Checks a password against the user's hash, bcrypt at most once a minute per user:password:hash. */
export function createPasswordVerifier() {
  const cache = new BoundedCache<{ ok: boolean; until: number }>(256 * 1024, (key) => stringBytes(key) + 48);
  return async (users: Map<string, string>, user: string, password: string): Promise<boolean> => {
    const hash = users.get(user);
    if (!hash) return false;
    const key = await cacheKey(user, password, hash);
    const cached = cache.get(key);
    if (cached && cached.until > Date.now()) return cached.ok;
    const ok = await (await (bcrypt ??= import("bcryptjs"))).default.compare(password, hash);
    cache.set(key, { ok, until: Date.now() + CACHE_MS });
    return ok;
  };
}

async function cacheKey(user: string, password: string, hash: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`${user}\u0000${password}\u0000${hash}`));
  return String.fromCharCode(...new Uint8Array(digest));
}
