import bcrypt from "bcryptjs";
import { RegistryError } from "./errors.ts";
import { noteUser } from "./ops/exchange.ts";
import type { AccessRequest, AuthOptions } from "./options.ts";

/** Throws UNAUTHORIZED or DENIED unless `request` may do `access`. */
export type AccessCheck = (request: Request, access: AccessRequest) => Promise<void>;

const allowAll: AccessCheck = async () => {};

export function createAccessCheck(options: AuthOptions | undefined): AccessCheck {
  if (!options || (!options.htpasswd && !options.authorize)) return allowAll;
  const challenge = { "WWW-Authenticate": `Basic realm="${options.realm ?? "Berth"}", charset="UTF-8"` };
  const unauthorized = () => new RegistryError("UNAUTHORIZED", null, { headers: challenge });

  if (options.authorize) {
    const authorize = options.authorize;
    return async (request, access) => {
      if (!(await authorize(request, access))) throw unauthorized();
    };
  }

  const verify = createHtpasswdVerifier(options.htpasswd ?? "");
  const readOnly = new Set(options.readOnlyUsers ?? []);
  return async (request, access) => {
    const credentials = parseBasicAuth(request.headers.get("authorization"));
    const isRead = access.action === "pull" || access.action === "catalog";
    if (!credentials) {
      // The base endpoint always challenges, so `docker login` really checks the password.
      const isBase = access.name === "" && access.action === "pull";
      if (options.anonymousPull && isRead && !isBase) return;
      throw unauthorized();
    }
    if (!(await verify(credentials.user, credentials.password))) throw unauthorized();
    noteUser(request, credentials.user); // for the access log and webhooks' actor: the name only
    if (!isRead && readOnly.has(credentials.user)) {
      throw new RegistryError("DENIED", { user: credentials.user, action: access.action, name: access.name });
    }
  };
}

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

/**
 * Verifies users against htpasswd bcrypt entries. bcrypt is slow on purpose, so results
 * for a given user:password are cached briefly; the cache only saves work, a miss re-checks.
 */
function createHtpasswdVerifier(htpasswd: string) {
  const hashes = new Map<string, string>();
  for (const line of htpasswd.split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon <= 0 || line.trimStart().startsWith("#")) continue;
    const hash = line.slice(colon + 1).trim();
    if (/^\$2[abxy]\$/.test(hash)) hashes.set(line.slice(0, colon), hash.replace(/^\$2y\$/, "$2b$"));
    else console.warn(`berth: htpasswd entry for "${line.slice(0, colon)}" is not bcrypt; ignored (use htpasswd -B)`);
  }
  const cache = new Map<string, { ok: boolean; until: number }>();
  const CACHE_MS = 60_000;
  return async (user: string, password: string): Promise<boolean> => {
    const hash = hashes.get(user);
    if (!hash) return false;
    const cacheKey = `${user}\u0000${password}`;
    const cached = cache.get(cacheKey);
    if (cached && cached.until > Date.now()) return cached.ok;
    const ok = await bcrypt.compare(password, hash);
    if (cache.size > 1000) cache.clear();
    cache.set(cacheKey, { ok, until: Date.now() + CACHE_MS });
    return ok;
  };
}
