import type { Authorizer } from "./auth/authorizer.ts";
import { createAuth, type TokenAuth } from "./auth/setup.ts";
import { BoundedCache, stringBytes } from "./bounded-cache.ts";
import { createPortableHasher, type Hasher, type HasherFactory } from "./hashing.ts";
import type { RegistryHooks, RegistryOptions } from "./options.ts";
import { instrumentStore } from "./ops/instrumented-store.ts";
import { createOps, type Ops } from "./ops/ops.ts";
import { PullThrough } from "./proxy/pull-through.ts";
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
  /** Fire a hook (and the webhooks that want it) without letting it fail or delay the request. */
  emit<K extends keyof RegistryHooks>(hook: K, event: Parameters<NonNullable<RegistryHooks[K]>>[0], request?: Request): void;
  /** Logger, metrics, webhooks (src/ops). */
  ops: Ops;
  /** Run background work (cleanup) without delaying the response. */
  background(work: () => Promise<unknown>): void;
  /**
   * Live hashers of uploads in progress in this process, so a chunked upload continues
   * its hash instead of re-reading. Only a cache: its entry is used when its byte count
   * matches the session's state in the store, and a miss means a re-hash, never an error.
   */
  liveHashers: BoundedCache<{ hasher: Hasher; size: number }>;
  /** Manifest bytes by digest (immutable), so a pull by tag reads two small objects, not three. */
  manifestBytes: BoundedCache<Uint8Array<ArrayBuffer>>;
  sizedBody: (body: ReadableStream<Uint8Array>, size: number) => ReadableStream<Uint8Array>;
  /** The pull-through cache, when upstreams are configured. */
  proxy?: PullThrough;
}

export function createContext(options: RegistryOptions): Context {
  const waitUntil = options.waitUntil ?? ((promise: Promise<unknown>) => void promise);
  const background = (work: () => Promise<unknown>) =>
    waitUntil(
      Promise.resolve()
        .then(work)
        .catch((error) => ops.logger.error("background task failed", { error: describeError(error) })),
    );
  const ops = createOps(options, background);
  const auth = createAuth(options.auth, options.store);
  return {
    store: instrumentStore(options.store, ops.metrics),
    ops,
    hasher: options.hasher ?? createPortableHasher,
    authorizer: auth.authorizer,
    tokenAuth: auth.token,
    reloadAuth: auth.reload,
    uploadExpiryMs: options.uploadExpiryMs ?? 24 * 60 * 60 * 1000,
    maxManifestBytes: options.maxManifestBytes ?? 4 * 1024 * 1024,
    deletes: options.deletes ?? true,
    emit(hook, event, request) {
      const listener = options.hooks?.[hook] as ((event: unknown) => unknown) | undefined;
      if (listener) background(async () => listener(event));
      ops.publish(hook, event, request);
    },
    background,
    // ~1 KiB per live upload (a SHA-256 state and its wrapper): 4 MiB holds thousands.
    liveHashers: new BoundedCache(4 * 1024 * 1024, (key) => stringBytes(key) + 1024),
    manifestBytes: new BoundedCache(16 * 1024 * 1024, (key, bytes) => stringBytes(key) + bytes.byteLength),
    sizedBody: options.sizedBody ?? ((body) => body),
    proxy: options.proxy?.upstreams.length ? new PullThrough(options.proxy, ops.metrics) : undefined,
  };
}

/** An error for a log line: its stack when it has one (stacks never hold credentials). */
export const describeError = (error: unknown): string => (error instanceof Error ? (error.stack ?? error.message) : String(error));
