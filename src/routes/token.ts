// The token endpoint (distribution's docs/spec/auth: token.md for GET, oauth.md for POST) and
// GET /auth/jwks, the public keys tokens are signed with. No access needed: this is where it comes from.
import type { Context } from "../context.ts";
import { RegistryError } from "../errors.ts";
import type { RegistryRouter, Scope } from "../routing.ts";
import type { AuthState } from "../auth/auth-state.ts";
import { parseBasicAuth } from "../auth/basic.ts";
import { base64url } from "../auth/jwt.ts";
import { parseScopes } from "../auth/scope.ts";
import type { TokenAuth } from "../auth/setup.ts";
import { TokenError } from "../auth/tokens.ts";
import { policyAllows } from "../auth/token-authorizer.ts";
import { readLimited } from "../streams.ts";

export function registerTokenRoutes(router: RegistryRouter, ctx: Context): void {
  const auth = ctx.tokenAuth;
  if (!auth) return;

  // docker login, podman, skopeo, buildah, containerd's fallback: Basic credentials optional.
  const count = (grantType: string, outcome: "granted" | "denied" | "invalid") => ctx.ops.metrics.tokens.inc({ grant_type: grantType, outcome });
  router.get("/auth/token", { access: "none" }, async (request) => {
    const url = new URL(request.url);
    const state = await auth.state.current();
    const credentials = parseBasicAuth(request.headers.get("authorization"));
    const grantType = credentials ? "basic" : "anonymous";
    if (credentials && !(await auth.verifyPassword(state.users, credentials.user, credentials.password))) {
      count(grantType, "denied");
      throw new RegistryError("UNAUTHORIZED", null, { message: "incorrect username or password" });
    }
    const user = credentials?.user ?? null;
    const offline = url.searchParams.get("offline_token") === "true" && user !== null;
    const { scopeText: _, ...body } = await reply(auth, state, user, parseScopes(url.searchParams.getAll("scope")), offline);
    count(grantType, "granted");
    return Response.json(body, { headers: NO_STORE });
  });

  // OAuth2: grant_type=password (containerd) or refresh_token (docker after login).
  router.post("/auth/token", { access: "none" }, async (request) => {
    let form: URLSearchParams;
    try {
      form = new URLSearchParams(new TextDecoder().decode(await readLimited(request as unknown as Request, 64 * 1024)));
    } catch {
      count("unknown", "invalid");
      return oauthError(400, "invalid_request", "expected a form body of at most 64 KiB");
    }
    const state = await auth.state.current();
    const grantType = form.get("grant_type");
    let user: string;
    let offline = false;
    if (grantType === "password") {
      user = form.get("username") ?? "";
      if (!user || !(await auth.verifyPassword(state.users, user, form.get("password") ?? ""))) {
        count(grantType, "denied");
        return oauthError(401, "invalid_grant", "incorrect username or password");
      }
      offline = form.get("access_type") === "offline";
    } else if (grantType === "refresh_token") {
      try {
        const refresh = await auth.tokens.verifyRefresh(form.get("refresh_token") ?? "");
        const hash = state.users.get(refresh.sub);
        if (!hash || (await passwordTag(hash)) !== refresh.tag) throw new TokenError("user removed or password changed");
        user = refresh.sub;
      } catch (error) {
        if (!(error instanceof TokenError)) throw error;
        count(grantType, "denied");
        return oauthError(401, "invalid_grant", "refresh token not valid: log in again");
      }
    } else {
      count("unknown", "invalid");
      return oauthError(400, "unsupported_grant_type", "grant_type must be password or refresh_token");
    }
    const { scopeText, ...body } = await reply(auth, state, user, parseScopes([form.get("scope") ?? ""]), offline);
    count(grantType, "granted");
    return Response.json({ ...body, scope: scopeText }, { headers: NO_STORE });
  });

  router.get("/auth/jwks", { access: "none" }, async () => Response.json(await auth.tokens.keys.jwks()));
}

const NO_STORE = { "Cache-Control": "no-store" };

/** The token reply: the intersection of what was asked and what the policy grants (scopes with nothing granted are left out). */
async function reply(auth: TokenAuth, state: AuthState, user: string | null, asked: Scope[], offline: boolean) {
  const allows = policyAllows(state, user);
  const access: Scope[] = [];
  for (const scope of asked) {
    const wanted = scope.type === "registry" ? ["*"] : scope.actions.includes("*") ? ["pull", "push", "delete"] : scope.actions;
    const actions = wanted.filter((action) => allows(scope.type, scope.name, action));
    if (actions.length) access.push({ ...scope, actions });
  }
  const issued = await auth.tokens.issue(user ?? "", access);
  const refresh = offline && user !== null ? await auth.tokens.issueRefresh(user, await passwordTag(state.users.get(user)!)) : undefined;
  return {
    token: issued.token,
    access_token: issued.token,
    expires_in: issued.expiresIn,
    issued_at: issued.issuedAt,
    ...(refresh && { refresh_token: refresh }),
    scopeText: access.map((s) => `${s.type}:${s.name}:${s.actions.join(",")}`).join(" "),
  };
}

/** A short fingerprint of the user's password hash: a refresh token ends when the password changes. */
async function passwordTag(hash: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(hash)))).slice(0, 22);
}

/** oauth.md's error shape, with the registry's `errors` beside it for clients that read only that. */
function oauthError(status: number, error: string, description: string): Response {
  const body = { error, error_description: description, errors: [{ code: status === 401 ? "UNAUTHORIZED" : "UNSUPPORTED", message: description, detail: null }] };
  return Response.json(body, { status, headers: NO_STORE });
}
