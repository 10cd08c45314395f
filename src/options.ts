import type { BlobStore } from "./storage/blob-store.ts";
import type { HasherFactory } from "./hashing.ts";
import type { OpsOptions } from "./ops/ops.ts";

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
  /** htpasswd file contents (bcrypt entries, as `htpasswd -B` writes). */
  htpasswd?: string;
  /** Users who may pull but never push or delete. */
  readOnlyUsers?: string[];
  /** Allow pulls (and `/v2/_catalog`) without credentials; pushes still need a user. */
  anonymousPull?: boolean;
  /** Realm shown in the Basic challenge. Default "Berth". */
  realm?: string;
  /** A custom authorizer for embedding apps; replaces htpasswd checks when given. */
  authorize?: Authorizer;
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

/** Notifications for embedding apps. A hook that throws or rejects never breaks a request. */
export interface RegistryHooks {
  onManifestPushed?: (event: ManifestEvent) => unknown;
  onManifestDeleted?: (event: Omit<ManifestEvent, "mediaType">) => unknown;
  /** A manifest GET (not HEAD), as distribution's pull event. */
  onManifestPulled?: (event: ManifestEvent) => unknown;
  onBlobPushed?: (event: BlobEvent) => unknown;
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
  /** Lets runtimes keep background work (hooks, cleanup) alive, e.g. Workers' ctx.waitUntil. */
  waitUntil?: (promise: Promise<unknown>) => void;
}
