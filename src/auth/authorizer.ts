/**
 * The authorizer (distribution's auth.AccessController): given a request and the access its
 * route needs, it answers a Grant or throws the one error that explains why not — 401
 * UNAUTHORIZED with the challenge to follow, or 403 DENIED for a caller who is known and
 * not allowed. Basic, Bearer and custom authorizers all fit this shape.
 */
import type { AccessRequest, Action, Authorizer as AuthorizeFunction } from "../options.ts";
import type { Access, Scope } from "../routing.ts";
import { RegistryError } from "../errors.ts";

export interface Grant {
  /** The authenticated user; null for anonymous callers. */
  user: string | null;
  /** Whether `action` on `type:name` was granted: every required scope is; optional ones when allowed. */
  granted(type: string, name: string, action: string): boolean;
  /** Whether the caller may pull `name` (the catalog lists only those). */
  mayPull(name: string): Promise<boolean>;
}

export interface Authorizer {
  authorize(request: Request, access: Access | "authenticated"): Promise<Grant>;
}

/** No auth configured: everyone may do everything. */
export const openAuthorizer: Authorizer = {
  authorize: async () => ({ user: null, granted: () => true, mayPull: async () => true }),
};

/**
 * An authorizer from a per-access check that throws (UNAUTHORIZED/DENIED) or returns: the
 * htpasswd check and an embedding app's `authorize(request, {name, action})`, asked once per scope.
 */
export function createCheckAuthorizer(check: (request: Request, access: AccessRequest) => Promise<void>): Authorizer {
  const passes = (request: Request, access: AccessRequest) => check(request, access).then(() => true, () => false);
  return {
    async authorize(request, access) {
      const needed = access === "authenticated" ? [{ name: "", action: "pull" as const }] : access.required.map(legacyAccess);
      for (const one of needed) await check(request, one);
      const optional = new Set<string>();
      if (access !== "authenticated") {
        for (const scope of access.optional) if (await passes(request, legacyAccess(scope))) optional.add(scopeKey(scope));
      }
      return {
        user: null,
        granted: (type, name, action) =>
          optional.has(`${type}:${name}:${action}`) || (access !== "authenticated" && access.required.some((s) => s.type === type && s.name === name && s.actions.includes(action))),
        mayPull: (name) => passes(request, { name, action: "pull" }),
      };
    },
  };
}

/** An embedding app's authorizer function: false answers 401 with a Basic challenge. */
export function createFunctionAuthorizer(authorize: AuthorizeFunction, realm: string): Authorizer {
  const challenge = { "WWW-Authenticate": `Basic realm="${realm}", charset="UTF-8"` };
  return createCheckAuthorizer(async (request, access) => {
    if (!(await authorize(request, access))) throw new RegistryError("UNAUTHORIZED", null, { headers: challenge });
  });
}

/** The `{name, action}` an embedding app's authorizer sees for a scope: one action, the strongest. */
export function legacyAccess(scope: Scope): AccessRequest {
  if (scope.type === "registry") return { name: "", action: "catalog" };
  const action: Action = scope.actions.includes("push") ? "push" : scope.actions.includes("delete") ? "delete" : "pull";
  return { name: scope.name, action };
}

/** `repository:name:pull` for a one-action scope. */
export const scopeKey = (scope: Scope) => `${scope.type}:${scope.name}:${scope.actions.join(",")}`;
