import { createHash } from "node:crypto";
import type { HasherFactory } from "../../src/hashing.ts";

/**
 * Native SHA-256/512 through node:crypto, the one hashing API Node (OpenSSL), Deno (Rust)
 * and Workers (BoringSSL, with nodejs_compat) all have: several times the portable hasher.
 * `copy()` lets the core read a digest mid-stream and keep hashing, which a chunked upload
 * needs (Workers' crypto.DigestStream cannot). It lives in runtimes/shared, though Workers
 * import it too, because src/ may not import node:*.
 */
export const createNodeCryptoHasher: HasherFactory = (algorithm) => {
  const hash = createHash(algorithm);
  return {
    update: (chunk) => void hash.update(chunk),
    digest: () => Promise.resolve(hash.copy().digest("hex")),
  };
};
