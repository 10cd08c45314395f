/**
 * The built-in authorizer: Bearer tokens from Berth's issuer (or a trusted one), Basic
 * credentials sent straight to the registry (curl -u), or nobody — all judged by the same
 * policy. It answers a Grant, or throws: 401 with a Bearer challenge naming exactly the
 * scopes the request needs (`error="invalid_token"` for a bad token, `"insufficient_scope"`
 * when the token lacks an action the caller could get), or 403 DENIED for a known caller the
 * policy does not allow — a clear answer, not a loop of challenges.
 */
import { RegistryError } from "../errors.ts";
import type { Scope } from "../routing.ts";
import type { AuthStateHolder, AuthState } from "./auth-state.ts";
import type { Authorizer, Grant } from "./authorizer.ts";
import { parseBasicAuth } from "./basic.ts";
import { covers, formatScopes } from "./scope.ts";
import { TokenError, type TokenService } from "./tokens.ts";

export interface TokenAuthorizerOptions {
  state: AuthStateHolder;
  tokens: TokenService;
  verifyPassword: (users: Map<string, string>, user: string, password: string) => Promise<boolean>;
  /** The token endpoint's URL; default `<origin of the request>/auth/token`. */
  realm?: string;
}

type Allows = (type: string, name: string, action: string) => boolean;

/** What the policy lets `user` do: any action on repositories it grants, the catalog to everyone. */
export const policyAllows = (state: AuthState, user: string | null): Allows => (type, name, action) =>
  type === "registry" ? name === "catalog" : type === "repository" && state.policy.actionsFor(user, name).has(action as "pull");

export function createTokenAuthorizer(options: TokenAuthorizerOptions): Authorizer {
  const { state: holder, tokens } = options;
  const challenge = (request: Request, scopes: Scope[], error?: string) => {
    const realm = options.realm ?? `${new URL(request.url).origin}/auth/token`;
    const parts = [`realm="${realm}"`, `service="${tokens.settings.service}"`];
    if (scopes.length) parts.push(`scope="${formatScopes(scopes)}"`);
    if (error) parts.push(`error="${error}"`);
    return new RegistryError("UNAUTHORIZED", scopes.length ? { access: scopes } : null, {
      headers: { "WWW-Authenticate": `Bearer ${parts.join(",")}` },
      ...(error === "invalid_token" && { message: "invalid or expired token" }),
      ...(error === "insufficient_scope" && { message: "insufficient scope: authorization failed" }),
    });
  };

  return {
    async authorize(request, access) {
      const state = await holder.current();
      const required = access === "authenticated" ? [] : access.required;
      const optional = access === "authenticated" ? [] : access.optional;
      const asked = [...required, ...optional];
      const header = request.headers.get("authorization") ?? "";
      const missingOf = (allows: Allows) => required.some((s) => s.actions.some((a) => !allows(s.type, s.name, a)));

      const bearer = header.match(/^Bearer\s+(\S+)\s*$/i);
      if (bearer) {
        let claims;
        try {
          claims = await tokens.verify(bearer[1]!);
        } catch (error) {
          if (error instanceof TokenError) throw challenge(request, asked, "invalid_token");
          throw error;
        }
        const user = claims.sub || null;
        // Berth's own tokens answer to the policy in force: a removed user or a narrowed rule ends them now.
        if (claims.own && user !== null && !state.users.has(user)) throw challenge(request, asked, "invalid_token");
        const policy = policyAllows(state, user);
        const allows: Allows = (type, name, action) => covers(claims.access, type, name, action) && (!claims.own || policy(type, name, action));
        if (missingOf(allows)) {
          if (claims.own && user !== null && missingOf(policy)) throw denied(user, required);
          throw challenge(request, asked, "insufficient_scope");
        }
        return grantOf(user, allows, claims.own ? policy : (type, name, action) => covers(claims.access, type, name, action));
      }

      const credentials = parseBasicAuth(header);
      if (credentials) {
        if (!(await options.verifyPassword(state.users, credentials.user, credentials.password))) throw challenge(request, asked);
        const allows = policyAllows(state, credentials.user);
        if (missingOf(allows)) throw denied(credentials.user, required);
        return grantOf(credentials.user, allows, allows);
      }

      // Nobody: what anonymous callers may do goes through; `GET /v2/` asks them to sign in or get a token.
      const allows = policyAllows(state, null);
      if (access === "authenticated" || missingOf(allows)) throw challenge(request, asked);
      return grantOf(null, allows, allows);
    },
  };
}

function grantOf(user: string | null, allows: Allows, pullable: Allows): Grant {
  return { user, granted: allows, mayPull: async (name) => pullable("repository", name, "pull") };
}

const denied = (user: string, scopes: Scope[]) =>
  new RegistryError("DENIED", { user, access: scopes });

