import { createHash } from "node:crypto";
import type { HasherFactory } from "../../src/index.ts";

/**
 * BoringSSL through nodejs_compat's node:crypto: measured in workerd at several times the
 * portable hasher's speed (README). Chosen over crypto.DigestStream because `copy()` lets a
 * hash report its digest after each request and keep going, which a chunked upload needs.
 */
export const createWorkersHasher: HasherFactory = (algorithm) => {
  const hash = createHash(algorithm);
  return {
    update: (chunk) => void hash.update(chunk),
    digest: async () => hash.copy().digest("hex"),
  };
};
