/**
 * Compact JWS with WebCrypto only (Node 20, Deno and workerd all have crypto.subtle): ES256
 * for Berth's own tokens (ECDSA P-256; WebCrypto's signature is the raw r||s JWS wants),
 * RS256 too for trusted external issuers. Anything else — `none` included — is refused.
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function base64url(bytes: Uint8Array | string): string {
  const data = typeof bytes === "string" ? encoder.encode(bytes) : bytes;
  let binary = "";
  for (let i = 0; i < data.length; i += 0x8000) binary += String.fromCharCode(...data.subarray(i, i + 0x8000));
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function fromBase64url(text: string): Uint8Array<ArrayBuffer> {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new Error("not base64url");
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

export type JwtAlgorithm = "ES256" | "RS256";

type ImportParams = Parameters<typeof crypto.subtle.importKey>[2];
type SignParams = Parameters<typeof crypto.subtle.sign>[0];

export const ALGORITHMS: Record<JwtAlgorithm, { import: ImportParams; sign: SignParams }> = {
  ES256: { import: { name: "ECDSA", namedCurve: "P-256" }, sign: { name: "ECDSA", hash: "SHA-256" } },
  RS256: { import: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, sign: { name: "RSASSA-PKCS1-v1_5" } },
};

export interface JwtHeader {
  alg: string;
  typ?: string;
  kid?: string;
}

export async function signJwt(claims: object, key: CryptoKey, kid: string): Promise<string> {
  const input = `${base64url(JSON.stringify({ typ: "JWT", alg: "ES256", kid }))}.${base64url(JSON.stringify(claims))}`;
  const signature = await crypto.subtle.sign(ALGORITHMS.ES256.sign, key, encoder.encode(input));
  return `${input}.${base64url(new Uint8Array(signature))}`;
}

/** Header and claims of a compact JWS, or null when it is not one. Nothing is verified yet. */
export function decodeJwt(token: string): { header: JwtHeader; claims: Record<string, unknown>; input: string; signature: Uint8Array<ArrayBuffer> } | null {
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  try {
    const header = JSON.parse(decoder.decode(fromBase64url(parts[0]!))) as JwtHeader;
    const claims = JSON.parse(decoder.decode(fromBase64url(parts[1]!))) as Record<string, unknown>;
    if (!header || typeof header.alg !== "string" || !claims || typeof claims !== "object") return null;
    return { header, claims, input: `${parts[0]}.${parts[1]}`, signature: fromBase64url(parts[2]!) };
  } catch {
    return null;
  }
}

/** Whether `signature` over `input` is valid for `key` under `alg` (ES256 or RS256 only). */
export async function verifySignature(alg: string, key: CryptoKey, input: string, signature: Uint8Array<ArrayBuffer>): Promise<boolean> {
  const algorithm = ALGORITHMS[alg as JwtAlgorithm];
  if (!algorithm || (alg === "ES256" && signature.byteLength !== 64)) return false;
  try {
    return await crypto.subtle.verify(algorithm.sign, key, signature, encoder.encode(input));
  } catch {
    return false;
  }
}
