import { createHash } from "node:crypto";
import type { HasherFactory } from "../../src/index.ts";

/**
 * Native SHA-256/512 through Deno's node:crypto (Rust, not JS): several times the
 * portable default. `copy()` lets the core read a digest mid-stream without ending it.
 */
export const createDenoHasher: HasherFactory = (algorithm) => {
  const hash = createHash(algorithm);
  return {
    update: (chunk) => void hash.update(chunk),
    digest: () => Promise.resolve(hash.copy().digest("hex")),
  };
};
