import type { Authorizer } from "./auth/authorizer.ts";
import { createAuth, type TokenAuth } from "./auth/setup.ts";
import { ByteCache } from "./byte-cache.ts";
import { createPortableHasher, type Hasher, type HasherFactory } from "./hashing.ts";
import type { RegistryHooks, RegistryOptions } from "./options.ts";
import type { BlobStore } from "./storage/blob-store.ts";

/** Everything a route needs, built once per registry from its options. */
export interface Context {
  store: BlobStore;
  hasher: HasherFactory;
  authorizer: Authorizer;
  /** The built-in token issuer (htpasswd auth), for the token endpoint. */
  tokenAuth?: TokenAuth;
  /** Re-read the users and the policy now (SIGHUP). */
  reloadAuth(): Promise<void>;
  uploadExpiryMs: number;
  maxManifestBytes: number;
  /** False with `--no-delete`: manifest, tag and blob DELETEs answer 405 UNSUPPORTED. */
  deletes: boolean;
  /** Fire a hook without letting it fail or delay the request. */
  emit<K extends keyof RegistryHooks>(hook: K, event: Parameters<NonNullable<RegistryHooks[K]>>[0]): void;
  /** Run background work (cleanup) without delaying the response. */
  background(work: () => Promise<unknown>): void;
  /**
   * Live hashers of uploads in progress in this process, so a chunked upload continues
   * its hash instead of re-reading. Only a cache: its entry is used when its byte count
   * matches the session's state in the store, and a miss means a re-hash, never an error.
   */
  liveHashers: Map<string, { hasher: Hasher; size: number }>;
  /** Manifest bytes by digest (immutable), so a pull by tag reads two small objects, not three. */
  manifestBytes: ByteCache;
}

export function createContext(options: RegistryOptions): Context {
  const waitUntil = options.waitUntil ?? ((promise: Promise<unknown>) => void promise);
  const background = (work: () => Promise<unknown>) =>
    waitUntil(
      Promise.resolve()
        .then(work)
        .catch((error) => console.error("berth: background task failed", error)),
    );
  const auth = createAuth(options.auth, options.store);
  return {
    store: options.store,
    hasher: options.hasher ?? createPortableHasher,
    authorizer: auth.authorizer,
    tokenAuth: auth.token,
    reloadAuth: auth.reload,
    uploadExpiryMs: options.uploadExpiryMs ?? 24 * 60 * 60 * 1000,
    maxManifestBytes: options.maxManifestBytes ?? 4 * 1024 * 1024,
    deletes: options.deletes ?? true,
    emit(hook, event) {
      const listener = options.hooks?.[hook] as ((event: unknown) => unknown) | undefined;
      if (listener) background(async () => listener(event));
    },
    background,
    liveHashers: new Map(),
    manifestBytes: new ByteCache(16 * 1024 * 1024),
  };
}
