import { RegistryError } from "./errors.ts";

/** Algorithms Berth can verify, with the length of their lowercase hex encoding. */
const HEX_LENGTH = { sha256: 64, sha512: 128 } as const;
export type HashAlgorithm = keyof typeof HEX_LENGTH;

export interface Digest {
  algorithm: HashAlgorithm;
  hex: string;
  /** `algorithm:hex`, the canonical string form. */
  value: string;
}

// The spec's grammar: algorithm ":" encoded.
const DIGEST_GRAMMAR = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/** Parse and validate a digest; anything unusable is DIGEST_INVALID. */
export function parseDigest(text: string): Digest {
  if (!DIGEST_GRAMMAR.test(text)) throw new RegistryError("DIGEST_INVALID", { digest: text }, { message: "invalid digest" });
  const [algorithm, hex] = text.split(":") as [string, string];
  if (!(algorithm in HEX_LENGTH)) {
    throw new RegistryError("DIGEST_INVALID", { digest: text }, { message: `unsupported digest algorithm ${algorithm}` });
  }
  const alg = algorithm as HashAlgorithm;
  if (hex.length !== HEX_LENGTH[alg] || !/^[0-9a-f]+$/.test(hex)) {
    throw new RegistryError("DIGEST_INVALID", { digest: text }, { message: `invalid ${alg} digest` });
  }
  return { algorithm: alg, hex, value: text };
}

/** True when `text` looks like a digest rather than a tag (tags cannot contain ':'). */
export function isDigestLike(text: string): boolean {
  return text.includes(":");
}
