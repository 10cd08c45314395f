import { sha256, sha512 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import type { HashAlgorithm } from "./digest.ts";

export type { HashAlgorithm };

/** An incremental hash. Runtimes inject a fast one (node:crypto); the default is pure JS. */
export interface Hasher {
  update(chunk: Uint8Array): void;
  /** Hex digest of everything hashed so far. The hasher stays usable afterwards. */
  digest(): Promise<string>;
}

export type HasherFactory = (algorithm: HashAlgorithm) => Hasher;

/** Portable default: @noble/hashes runs on every runtime (no WebAssembly, no native code). */
export const createPortableHasher: HasherFactory = (algorithm) => {
  const hash = (algorithm === "sha256" ? sha256 : sha512).create();
  return {
    update: (chunk) => void hash.update(chunk),
    digest: async () => bytesToHex(hash.clone().digest()),
  };
};

/** Hash a whole stream, e.g. to re-verify an upload that arrived over several requests. */
export async function hashStream(stream: ReadableStream<Uint8Array>, hasher: Hasher): Promise<string> {
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) hasher.update(chunk);
  return hasher.digest();
}
