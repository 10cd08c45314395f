import type { RegistryOptions } from "../../src/index.ts";
import type { R2StoreOptions } from "./r2-store.ts";

/** Bindings and vars from wrangler.toml (vars are strings); BERTH_HTPASSWD is a secret. */
export interface Env {
  BUCKET: R2Bucket;
  /** htpasswd file contents, bcrypt entries (`htpasswd -B`). Unset: no auth at all. */
  BERTH_HTPASSWD?: string;
  /** "true" or "1": anyone may pull; pushing still needs a user. */
  BERTH_ANONYMOUS_PULL?: string;
  /** Comma-separated users who may pull but never push or delete. */
  BERTH_READ_ONLY_USERS?: string;
  /** Realm of the Basic challenge. */
  BERTH_REALM?: string;
  /** Seconds an idle upload session lives (default 86400). */
  BERTH_UPLOAD_EXPIRY?: string;
  /** Largest accepted manifest in bytes (default 4 MiB). */
  BERTH_MAX_MANIFEST_BYTES?: string;
  /** Multipart part size in MiB for request bodies of unknown length (default and minimum 5). */
  BERTH_PART_SIZE_MIB?: string;
}

export type WorkerConfig = Pick<RegistryOptions, "auth" | "uploadExpiryMs" | "maxManifestBytes"> & { r2: R2StoreOptions };

/** Turn the Worker's vars into registry options; a bad value fails loudly, naming the var. */
export function readConfig(env: Env): WorkerConfig {
  const htpasswd = env.BERTH_HTPASSWD?.trim() ? env.BERTH_HTPASSWD : undefined;
  const readOnlyUsers = env.BERTH_READ_ONLY_USERS?.split(",").map((user) => user.trim()).filter(Boolean);
  const expirySeconds = positive(env, "BERTH_UPLOAD_EXPIRY");
  const partSizeMiB = positive(env, "BERTH_PART_SIZE_MIB");
  return {
    auth: htpasswd ? { htpasswd, anonymousPull: isTrue(env.BERTH_ANONYMOUS_PULL), readOnlyUsers, realm: env.BERTH_REALM || undefined } : undefined,
    uploadExpiryMs: expirySeconds && expirySeconds * 1000,
    maxManifestBytes: positive(env, "BERTH_MAX_MANIFEST_BYTES"),
    r2: { partSize: partSizeMiB && partSizeMiB * 1024 * 1024 },
  };
}

function positive(env: Env, name: "BERTH_UPLOAD_EXPIRY" | "BERTH_MAX_MANIFEST_BYTES" | "BERTH_PART_SIZE_MIB"): number | undefined {
  const text = env[name]?.trim();
  if (!text) return undefined;
  const value = Number(text);
  if (!(value > 0)) throw new Error(`${name} must be a positive number, got ${JSON.stringify(text)}`);
  return value;
}

const isTrue = (value: string | undefined) => value === "1" || value?.toLowerCase() === "true";
