/**
 * What a configuration means for `createRegistry`, on every runtime. The runtime hands in
 * what differs (its store, its hasher, how it reads a file); everything else is decided here
 * once, including the checks that stop a bad configuration at startup.
 */
import type { HasherFactory } from "../hashing.ts";
import type { RegistryOptions } from "../options.ts";
import type { BlobStore } from "../storage/blob-store.ts";
import { readFileRef } from "./load.ts";
import type { Config } from "./schema.ts";
import { ConfigError } from "./values.ts";

export interface RuntimeParts {
  store: BlobStore;
  hasher?: HasherFactory;
  /** Reads a file the configuration names; Workers have none (their files come as contents). */
  readText: (path: string) => Promise<string>;
  waitUntil?: (promise: Promise<unknown>) => void;
  /** How the pull-through cache fetches its upstreams (default: the global fetch). */
  fetch?: (request: Request) => Promise<Response>;
}

export async function registryOptionsFrom(config: Config, runtime: RuntimeParts): Promise<RegistryOptions> {
  const { auth } = config;
  if (!auth.htpasswd && (auth.anonymousPull || auth.readOnlyUsers.length)) {
    throw new ConfigError(`${auth.anonymousPull ? "--anonymous-pull" : "--read-only"} needs users: give --htpasswd FILE (auth.htpasswd)`);
  }
  const htpasswd = auth.htpasswd ? await readFileRef(auth.htpasswd, runtime.readText) : undefined;
  return {
    store: runtime.store,
    hasher: runtime.hasher,
    waitUntil: runtime.waitUntil,
    uploadExpiryMs: config.uploads.expiry,
    maxManifestBytes: config.manifests.maxBytes,
    proxy: config.proxy.upstreams.length ? { upstreams: config.proxy.upstreams, tagTtlMs: config.proxy.tagTtl, timeoutMs: config.proxy.timeout, fetch: runtime.fetch } : undefined,
    auth: htpasswd === undefined ? undefined : { htpasswd, anonymousPull: auth.anonymousPull, readOnlyUsers: auth.readOnlyUsers, realm: auth.realm },
  };
}
