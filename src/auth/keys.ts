/**
 * Token signing keys. Berth's own key is ES256 (P-256), identified by its RFC 7638 JWK
 * thumbprint, either given in configuration (PEM PKCS#8 or a JWK; a Workers secret) or
 * generated on first start and kept in the store, so restarts, other processes and other
 * isolates share it. Stores have no write-if-absent, so two processes starting at once may
 * both generate one: each key is its own object (named by its thumbprint, never
 * overwritten), every stored key verifies, and all processes sign with the smallest kid.
 */
import type { BlobStore } from "../storage/blob-store.ts";
import { readBytes } from "../streams.ts";
import { ALGORITHMS, base64url, fromBase64url, type JwtAlgorithm } from "./jwt.ts";

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** Public JWK with kid, alg and use, as /auth/jwks publishes it. */
  publicJwk: JsonWebKey & { kid: string };
}

export interface VerificationKey {
  kid: string;
  alg: JwtAlgorithm;
  key: CryptoKey;
}

const KEYS_PREFIX = "auth/signing-keys/";
const keyObject = (kid: string) => `${KEYS_PREFIX}k-${kid}.json`;
const EC = ALGORITHMS.ES256.import;

/** RFC 7638: SHA-256 over the required members in lexical order, base64url. */
export async function thumbprint(jwk: JsonWebKey): Promise<string> {
  const members = jwk.kty === "EC" ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } : { e: jwk.e, kty: jwk.kty, n: jwk.n };
  return base64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(JSON.stringify(members)))));
}

/** A private key from configuration: PEM PKCS#8 (`openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`) or a JWK. */
export async function importSigningKey(text: string): Promise<SigningKey> {
  const trimmed = text.trim();
  if (trimmed.includes("BEGIN EC PRIVATE KEY")) throw new Error("a SEC1 EC key; convert it to PKCS#8: openssl pkcs8 -topk8 -nocrypt -in key.pem");
  let jwk: JsonWebKey;
  if (trimmed.startsWith("{")) {
    jwk = JSON.parse(trimmed) as JsonWebKey;
  } else {
    const der = pemBody(trimmed, "PRIVATE KEY");
    if (!der) throw new Error("expected a PEM PKCS#8 private key (BEGIN PRIVATE KEY) or a JWK");
    jwk = (await crypto.subtle.exportKey("jwk", await crypto.subtle.importKey("pkcs8", der, EC, true, ["sign"]))) as JsonWebKey;
  }
  if (jwk.kty !== "EC" || jwk.crv !== "P-256" || !jwk.d) throw new Error("the signing key must be an EC P-256 private key (ES256)");
  return fromPrivateJwk(jwk);
}

async function fromPrivateJwk(jwk: JsonWebKey): Promise<SigningKey> {
  const { kty, crv, x, y } = jwk;
  const publicPart = { kty, crv, x, y };
  const kid = await thumbprint(publicPart);
  return {
    kid,
    privateKey: await crypto.subtle.importKey("jwk", { kty, crv, x, y, d: jwk.d }, EC, false, ["sign"]),
    publicKey: await crypto.subtle.importKey("jwk", publicPart, EC, true, ["verify"]),
    publicJwk: { ...publicPart, kid, alg: "ES256", use: "sig" },
  };
}

/** Public keys of a trusted issuer: PEM SPKI (EC P-256 or RSA), a JWK, or a JWKS `{keys: [...]}`. */
export async function importPublicKeys(text: string): Promise<VerificationKey[]> {
  const trimmed = text.trim();
  if (!trimmed.startsWith("{")) {
    const der = pemBody(trimmed, "PUBLIC KEY");
    if (!der) throw new Error("expected a PEM public key (BEGIN PUBLIC KEY), a JWK or a JWKS");
    for (const alg of ["ES256", "RS256"] as const) {
      const key = await crypto.subtle.importKey("spki", der, ALGORITHMS[alg].import, true, ["verify"]).catch(() => null);
      if (key) return [{ kid: await thumbprint((await crypto.subtle.exportKey("jwk", key)) as JsonWebKey), alg, key }];
    }
    throw new Error("the public key is neither EC P-256 nor RSA");
  }
  const data = JSON.parse(trimmed) as { keys?: JsonWebKey[] } & JsonWebKey;
  const jwks = Array.isArray(data.keys) ? data.keys : [data];
  return Promise.all(
    jwks.map(async (jwk) => {
      const alg: JwtAlgorithm = jwk.kty === "RSA" ? "RS256" : "ES256";
      const key = await crypto.subtle.importKey("jwk", { ...jwk, d: undefined, key_ops: undefined, ext: undefined }, ALGORITHMS[alg].import, true, ["verify"]);
      return { kid: (jwk as { kid?: string }).kid ?? (await thumbprint(jwk)), alg, key };
    }),
  );
}

function pemBody(text: string, label: string): Uint8Array<ArrayBuffer> | null {
  const match = text.match(new RegExp(`-----BEGIN ${label}-----([^-]+)-----END ${label}-----`));
  return match ? fromBase64url(match[1]!.replace(/\s+/g, "").replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")) : null;
}

/** The keys of this registry: the one it signs with and every one it accepts. */
export class KeyRing {
  private signingKey?: Promise<SigningKey>;
  private known = new Map<string, SigningKey>();
  private lastListed = 0;
  private relisting?: Promise<void>;

  constructor(private store: BlobStore, private configured?: string) {}

  signing(): Promise<SigningKey> {
    this.signingKey ??= (this.configured ? importSigningKey(this.configured) : this.loadOrCreate()).then((key) => {
      this.known.set(key.kid, key);
      return key;
    });
    this.signingKey.catch(() => (this.signingKey = undefined)); // a store hiccup: try again next time
    return this.signingKey;
  }

  /**
   * The public key for `kid`. An unknown kid re-reads the store (another process may have just
   * written its key), at most once a second: callers in between wait for the next re-read, so
   * random kids cannot make the store list on every request.
   */
  async verificationKey(kid: string): Promise<CryptoKey | null> {
    await this.signing();
    const known = this.known.get(kid);
    if (known) return known.publicKey;
    if (this.configured) return null;
    this.relisting ??= (async () => {
      const wait = this.lastListed + 1000 - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      await this.loadStored();
    })().finally(() => (this.relisting = undefined));
    await this.relisting;
    return this.known.get(kid)?.publicKey ?? null;
  }

  async jwks(): Promise<{ keys: JsonWebKey[] }> {
    await this.signing();
    return { keys: [...this.known.values()].map((key) => key.publicJwk) };
  }

  private async loadOrCreate(): Promise<SigningKey> {
    let stored = await this.loadStored();
    if (stored.length === 0) {
      const pair = (await crypto.subtle.generateKey(EC, true, ["sign", "verify"])) as CryptoKeyPair;
      const jwk = (await crypto.subtle.exportKey("jwk", pair.privateKey)) as JsonWebKey;
      const key = await fromPrivateJwk(jwk);
      await this.store.put(keyObject(key.kid), new TextEncoder().encode(JSON.stringify(jwk)));
      stored = await this.loadStored(); // another process may have stored one at the same time
    }
    return stored.sort((a, b) => (a.kid < b.kid ? -1 : 1))[0]!;
  }

  private async loadStored(): Promise<SigningKey[]> {
    this.lastListed = Date.now();
    const page = await this.store.list(KEYS_PREFIX, { limit: 100 });
    const keys: SigningKey[] = [];
    for (const name of page.keys) {
      const object = await this.store.get(name);
      if (!object) continue;
      const key = await fromPrivateJwk(JSON.parse(new TextDecoder().decode(await readBytes(object))) as JsonWebKey);
      this.known.set(key.kid, key);
      keys.push(key);
    }
    return keys;
  }
}
