/**
 * Token-auth helpers for the HTTP suite: a target that sends one Authorization header, the
 * token endpoint as clients call it, and an independent ES256 minter (node:crypto, not the
 * code under test) for tokens the registry must refuse or accept.
 */
import { createHash, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import bcrypt from "bcryptjs";
import { expect } from "vitest";
import type { Target } from "../targets/index.ts";
import { basicAuth } from "./helpers.ts";

export const USERS = { alice: "al1ce-pw", bob: "b0b-pw", carol: "car0l-pw" } as const;
export const htpasswdOf = (users: Record<string, string>) => Object.entries(users).map(([user, pw]) => `${user}:${bcrypt.hashSync(pw, 4)}`).join("\n") + "\n";
export const HTPASSWD = htpasswdOf(USERS);
export const basic = (user: keyof typeof USERS) => basicAuth(user, USERS[user]);

/** The example policy, exactly. */
export const EXAMPLE_POLICY = `groups:
  admins: [alice]
rules:
  - repositories: ["public/**"]
    anonymous: true
    actions: [pull]
  - repositories: ["public/**", "team/**"]
    groups: [admins]
    actions: [pull, push, delete]
  - repositories: ["**"]
    users: ["*"]          # any authenticated user
    actions: [pull]
`;

/** A target whose every request carries `authorization`. */
export function as(t: Target, authorization: string): Target {
  return {
    ...t,
    fetch: (path, init = {}) => {
      const headers = new Headers(init.headers);
      headers.set("Authorization", authorization);
      return t.fetch(path, { ...init, headers });
    },
  };
}

export interface TokenReply {
  token: string;
  access_token: string;
  expires_in: number;
  issued_at: string;
  refresh_token?: string;
  scope?: string;
}

/** `GET /auth/token?service=berth&scope=...` as containers/image sends it (repeated scope=). */
export async function getToken(t: Target, scopes: string[], authorization?: string, extra: Record<string, string> = {}): Promise<TokenReply> {
  const query = new URLSearchParams({ service: "berth", ...extra });
  for (const scope of scopes) query.append("scope", scope);
  const res = await t.fetch(`/auth/token?${query}`, authorization ? { headers: { Authorization: authorization } } : {});
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as TokenReply;
}

/** `POST /auth/token` with a form, as docker (refresh_token) and containerd (password) send it. */
export function postToken(t: Target, form: Record<string, string>): Promise<Response> {
  return t.fetch("/auth/token", { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(form).toString() });
}

export const bearer = (token: string) => `Bearer ${token}`;

export function decodePart(token: string, index: 0 | 1): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[index]!, "base64url").toString("utf8")) as Record<string, unknown>;
}

/** A P-256 key as the registry's --token-key takes it, and the means to sign with it. */
export function makeKey(): { pem: string; key: KeyObject; jwk: { kty: string; crv: string; x: string; y: string } } {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return { pem: privateKey.export({ type: "pkcs8", format: "pem" }) as string, key: privateKey, jwk: publicKey.export({ format: "jwk" }) as never };
}

/** RFC 7638, computed here from the JWK's members. */
export function thumbprintOf(jwk: { crv: string; kty: string; x: string; y: string }): string {
  return createHash("sha256").update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })).digest("base64url");
}

/** A compact JWS signed with node:crypto; `alg: "none"` gives an unsigned one. */
export function mint(key: KeyObject, claims: Record<string, unknown>, header: Record<string, unknown> = {}): string {
  const head = { typ: "JWT", alg: "ES256", ...header };
  const input = `${Buffer.from(JSON.stringify(head)).toString("base64url")}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}`;
  if (head.alg === "none") return `${input}.`;
  return `${input}.${sign("sha256", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" }).toString("base64url")}`;
}

/** Claims like the registry's own, for `sub` with `access`, valid now unless overridden. */
export function claims(sub: string, access: { type: string; name: string; actions: string[] }[], extra: Record<string, unknown> = {}) {
  const now = Math.floor(Date.now() / 1000);
  return { iss: "berth", aud: "berth", sub, access, iat: now, nbf: now, exp: now + 300, jti: `t-${Math.random()}`, ...extra };
}

/** The parts of a Bearer challenge, e.g. {realm, service, scope, error}. */
export function challengeOf(res: Response): Record<string, string> {
  const header = res.headers.get("www-authenticate") ?? "";
  expect(header).toMatch(/^Bearer /);
  return Object.fromEntries([...header.slice(7).matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
}
