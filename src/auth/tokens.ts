/**
 * Issuing and verifying tokens (distribution's docs/spec/auth/jwt.md): claims iss, sub, aud,
 * exp, nbf, iat, jti and access[]; 60 s of clock leeway. Refresh tokens (oauth.md) are JWTs
 * too, marked so they never pass as access tokens, and bound to the user's password hash:
 * a changed password or a removed user ends them. A verified token string is remembered
 * until it expires, so a registry request pays an ECDSA verify once per token, not per request.
 */
import type { Scope } from "../routing.ts";
import { decodeJwt, signJwt, verifySignature } from "./jwt.ts";
import type { KeyRing, VerificationKey } from "./keys.ts";
import { accessClaim } from "./scope.ts";
import { BoundedCache, stringBytes } from "../bounded-cache.ts";

export const LEEWAY_S = 60;

export interface TokenSettings {
  issuer: string;
  service: string;
  lifetimeMs: number;
  refreshLifetimeMs: number;
  /** External token servers whose tokens are accepted beside Berth's own (keys imported once). */
  trusted: Promise<TrustedIssuer[]>;
}

export interface TrustedIssuer {
  issuer: string;
  /** The `aud` its tokens carry for this registry; default: Berth's service. */
  service?: string;
  keys: VerificationKey[];
}

export interface AccessClaims {
  iss: string;
  sub: string;
  access: Scope[];
  exp: number;
  /** Issued by Berth itself (its policy still applies), not by a trusted issuer. */
  own: boolean;
}

/** Why a token was refused; it becomes `error="invalid_token"`. */
export class TokenError extends Error {}

const REFRESH = "refresh";

export class TokenService {
  /** Verified tokens (each about its length in claims again): 4 MiB holds a few thousand. */
  private verified = new BoundedCache<AccessClaims>(4 * 1024 * 1024, (token) => 3 * stringBytes(token));

  constructor(readonly keys: KeyRing, readonly settings: TokenSettings) {}

  async issue(sub: string, access: Scope[]): Promise<{ token: string; expiresIn: number; issuedAt: string }> {
    const now = Math.floor(Date.now() / 1000);
    const expiresIn = Math.floor(this.settings.lifetimeMs / 1000);
    const token = await this.sign({ sub, access, iat: now, nbf: now, exp: now + expiresIn });
    return { token, expiresIn, issuedAt: new Date(now * 1000).toISOString() };
  }

  /** `tag` binds the refresh token to the user's current password hash. */
  issueRefresh(sub: string, tag: string): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return this.sign({ sub, berth_use: REFRESH, berth_tag: tag, iat: now, nbf: now, exp: now + Math.floor(this.settings.refreshLifetimeMs / 1000) });
  }

  async verify(token: string): Promise<AccessClaims> {
    const cached = this.verified.get(token);
    if (cached && cached.exp + LEEWAY_S > Date.now() / 1000) return cached;
    const { claims, own } = await this.check(token);
    if (claims.berth_use !== undefined) throw new TokenError("not an access token");
    const access = claims.access === undefined ? [] : accessClaim(claims.access);
    if (!access) throw new TokenError("malformed access claim");
    const result: AccessClaims = { iss: claims.iss as string, sub: typeof claims.sub === "string" ? claims.sub : "", access, exp: claims.exp as number, own };
    this.verified.set(token, result);
    return result;
  }

  async verifyRefresh(token: string): Promise<{ sub: string; tag: string }> {
    const { claims, own } = await this.check(token);
    if (!own || claims.berth_use !== REFRESH || typeof claims.sub !== "string" || typeof claims.berth_tag !== "string") throw new TokenError("not a refresh token");
    return { sub: claims.sub, tag: claims.berth_tag };
  }

  private async sign(claims: Record<string, unknown>): Promise<string> {
    const key = await this.keys.signing();
    return signJwt({ iss: this.settings.issuer, aud: this.settings.service, jti: crypto.randomUUID(), ...claims }, key.privateKey, key.kid);
  }

  /** Signature, issuer, audience and time; returns the claims and whose token it is. */
  private async check(token: string): Promise<{ claims: Record<string, unknown>; own: boolean }> {
    const jwt = decodeJwt(token);
    if (!jwt) throw new TokenError("not a JWT");
    const { header, claims } = jwt;
    const own = claims.iss === this.settings.issuer;
    const trusted = own ? undefined : (await this.settings.trusted).find((t) => t.issuer === claims.iss);
    if (!own && !trusted) throw new TokenError("unknown issuer");
    if (own && header.alg !== "ES256") throw new TokenError(`algorithm ${header.alg} refused`);
    const key = own ? await this.keys.verificationKey(header.kid ?? "") : pickKey(trusted!.keys, header.kid, header.alg);
    if (!key || !(await verifySignature(header.alg, key, jwt.input, jwt.signature))) throw new TokenError("bad signature");
    const audience = own ? this.settings.service : (trusted!.service ?? this.settings.service);
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!aud.includes(audience)) throw new TokenError("token for another service");
    const now = Date.now() / 1000;
    if (typeof claims.exp !== "number" || claims.exp + LEEWAY_S <= now) throw new TokenError("expired");
    if (typeof claims.nbf === "number" && claims.nbf - LEEWAY_S > now) throw new TokenError("not yet valid");
    return { claims, own };
  }
}

function pickKey(keys: VerificationKey[], kid: string | undefined, alg: string): CryptoKey | null {
  const candidates = keys.filter((key) => key.alg === alg);
  const match = kid ? candidates.find((key) => key.kid === kid) : undefined;
  return (match ?? (candidates.length === 1 ? candidates[0] : undefined))?.key ?? null;
}
