/** The auth a registry's options ask for: none, an embedding app's function, or htpasswd + policy + tokens. */
import type { AuthOptions } from "../options.ts";
import type { BlobStore } from "../storage/blob-store.ts";
import { AuthStateHolder } from "./auth-state.ts";
import { createFunctionAuthorizer, openAuthorizer, type Authorizer } from "./authorizer.ts";
import { createPasswordVerifier } from "./basic.ts";
import { importPublicKeys, KeyRing } from "./keys.ts";
import { createTokenAuthorizer } from "./token-authorizer.ts";
import { TokenService, type TrustedIssuer } from "./tokens.ts";

/** What the token endpoint needs. */
export interface TokenAuth {
  state: AuthStateHolder;
  tokens: TokenService;
  verifyPassword: (users: Map<string, string>, user: string, password: string) => Promise<boolean>;
}

export interface Auth {
  authorizer: Authorizer;
  token?: TokenAuth;
  reload(): Promise<void>;
}

export const DEFAULT_TOKEN_LIFETIME_MS = 5 * 60_000;
export const MIN_TOKEN_LIFETIME_MS = 60_000;

export function createAuth(options: AuthOptions | undefined, store: BlobStore): Auth {
  const nothing = async () => {};
  if (options?.authorize) return { authorizer: createFunctionAuthorizer(options.authorize, options.realm ?? "Berth"), reload: nothing };
  if (options?.htpasswd === undefined) return { authorizer: openAuthorizer, reload: nothing };

  const state = new AuthStateHolder({ ...options, htpasswd: options.htpasswd });
  const token = options.token ?? {};
  const lifetimeMs = Math.max(token.lifetimeMs ?? DEFAULT_TOKEN_LIFETIME_MS, MIN_TOKEN_LIFETIME_MS);
  const trusted = Promise.all(
    (token.trust ?? []).map(async (t): Promise<TrustedIssuer> => ({ issuer: t.issuer, service: t.service, keys: await importPublicKeys(t.keys) })),
  );
  trusted.catch(() => {}); // reported when a token from them arrives; startup validated them already
  const tokens = new TokenService(new KeyRing(store, token.signingKey), {
    issuer: token.issuer ?? "berth",
    service: token.service ?? "berth",
    lifetimeMs,
    refreshLifetimeMs: token.refreshLifetimeMs ?? 30 * 86_400_000,
    trusted,
  });
  const verifyPassword = createPasswordVerifier();
  const authorizer = createTokenAuthorizer({ state, tokens, verifyPassword, realm: token.realm });
  return { authorizer, token: { state, tokens, verifyPassword }, reload: () => state.reload() };
}
