import { createHash } from "node:crypto";
import type { HasherFactory } from "../../src/index.ts";

/** Native OpenSSL hashing (SHA extensions where the CPU has them): several times the portable speed. */
export const createNodeHasher: HasherFactory = (algorithm) => {
  const hash = createHash(algorithm);
  return {
    update: (chunk) => void hash.update(chunk),
    digest: async () => hash.copy().digest("hex"),
  };
};
