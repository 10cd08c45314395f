import type { BlobStore } from "./storage/blob-store.ts";
import type { HasherFactory } from "./hashing.ts";
import type { OpsOptions } from "./ops/ops.ts";
import type { ProxyOptions } from "./proxy/pull-through.ts";

export type { ProxyOptions } from "./proxy/pull-through.ts";
export type { UpstreamOptions } from "./proxy/upstreams.ts";

/** What a request wants to do, for authorization. */
export type Action = "pull" | "push" | "delete" | "catalog";

export interface AccessRequest {
  /** Repository name, or "" for registry-wide requests (`/v2/`, `/v2/_catalog`). */
  name: string;
  action: Action;
}

/**
 * Decides whether a request may go ahead. Return true to allow. Return false to answer
 * 401 UNAUTHORIZED with a Basic challenge (or 403 DENIED when `user` was authenticated).
 */
export type Authorizer = (request: Request, access: AccessRequest) => boolean | Promise<boolean>;

export interface AuthOptions {
  /** htpasswd file contents (bcrypt entries, as `htpasswd -B` writes). Turns on tokens and the policy. */
  htpasswd?: string;
  /** The access policy: YAML/JSON text or its parsed `{groups, rules}`. Default: every user may do everything. */
  policy?: string | object;
  /** Without a policy: users who may pull but never push or delete. */
  readOnlyUsers?: string[];
  /** Without a policy: anyone may pull (and list the catalog); pushes still need a user. */
  anonymousPull?: boolean;
  /** Token issuer settings. */
  token?: TokenOptions;
  /** Re-readers of sources that may change (files): checked at most every `intervalMs` (default 3 s). */
  reload?: { htpasswd?: () => Promise<string>; policy?: () => Promise<string>; intervalMs?: number };
  /** Realm shown in the Basic challenge of a custom authorizer. Default "Berth". */
  realm?: string;
  /** A custom authorizer for embedding apps; replaces htpasswd checks when given. */
  authorize?: Authorizer;
}

export interface TokenOptions {
  /** `iss` of issued tokens. Default "berth". */
  issuer?: string;
  /** `service` of challenges and `aud` of tokens. Default "berth". */
  service?: string;
  /** Access token lifetime; default 5 minutes, never under 60 s. */
  lifetimeMs?: number;
  /** Refresh token lifetime (docker login keeps one instead of the password); default 30 days. */
  refreshLifetimeMs?: number;
  /** The token endpoint's URL in challenges; default `<request origin>/auth/token` (set it behind a proxy). */
  realm?: string;
  /** ES256 private key, PEM PKCS#8 or JWK; default: generated once and kept in the store. */
  signingKey?: string;
  /** Token servers whose tokens are accepted too: issuer, the `aud` they use (default: service), public keys (PEM, JWK or JWKS). */
  trust?: { issuer: string; service?: string; keys: string }[];
}

export interface ManifestEvent {
  name: string;
  reference: string;
  digest: string;
  mediaType: string;
  /** Bytes of the manifest (absent on deletes). */
  size?: number;
}

export interface BlobEvent {
  name: string;
  digest: string;
  size: number;
}

/** A blob linked into `name` from another repository (`POST ?mount=&from=`), as distribution's mount event. */
export interface BlobMountEvent extends BlobEvent {
  from: string;
}

/** The pull-through cache stored content fetched from an upstream (a blob, or a manifest with ms 0). */
export interface CacheFillEvent {
  name: string;
  digest: string;
  size: number;
  upstream: string;
  ms: number;
}

/** Notifications for embedding apps. A hook that throws or rejects never breaks a request. */
export interface RegistryHooks {
  onManifestPushed?: (event: ManifestEvent) => unknown;
  onManifestDeleted?: (event: Omit<ManifestEvent, "mediaType">) => unknown;
  /** A manifest GET (not HEAD), as distribution's pull event. */
  onManifestPulled?: (event: ManifestEvent) => unknown;
  /** An upload completed (chunked, streamed or monolithic). */
  onBlobPushed?: (event: BlobEvent) => unknown;
  onBlobMounted?: (event: BlobMountEvent) => unknown;
  /** A blob GET (not HEAD), a redirect to presigned storage included. */
  onBlobPulled?: (event: BlobEvent) => unknown;
  /** `DELETE /v2/<name>/blobs/<digest>`: the repository's link went. */
  onBlobDeleted?: (event: BlobEvent) => unknown;
  onCacheFill?: (event: CacheFillEvent) => unknown;
}

/** Logs, metrics, health and webhooks options come from OpsOptions (src/ops/ops.ts). */
export interface RegistryOptions extends OpsOptions {
  store: BlobStore;
  /** Streaming hash implementation; defaults to a portable pure-JS one. */
  hasher?: HasherFactory;
  auth?: AuthOptions;
  hooks?: RegistryHooks;
  /** Upload sessions idle longer than this are expired and cleaned up. Default 24 h. */
  uploadExpiryMs?: number;
  /** Largest accepted manifest in bytes. Default 4 MiB; larger gets 413. */
  maxManifestBytes?: number;
  /** Pull-through cache of upstream registries (repositories they serve cannot be pushed to). */
  proxy?: ProxyOptions;
  /**
   * Gives a streamed response body of known size its length, where setting Content-Length is
   * not enough (Workers drop it for a plain stream: pass a FixedLengthStream). Default: as is.
   */
  sizedBody?: (body: ReadableStream<Uint8Array>, size: number) => ReadableStream<Uint8Array>;
  /** Allow DELETE of manifests, tags and blobs. Default true; false answers 405 UNSUPPORTED. */
  deletes?: boolean;
  /** Serve the web UI (`/`, `/ui/`) and its JSON API (`/api/ui/`). Default true. */
  ui?: boolean;
  /** Origins (or "*") whose web pages may call the registry; CORS is off when empty. */
  corsOrigins?: string[];
  /** Lets runtimes keep background work (hooks, cleanup) alive, e.g. Workers' ctx.waitUntil. */
  waitUntil?: (promise: Promise<unknown>) => void;
}
