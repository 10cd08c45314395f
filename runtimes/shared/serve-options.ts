import type { BlobStore, HasherFactory, RegistryOptions } from "../../src/index.ts";

/** What `serve()` takes on Node and on Deno; `Entry` is each runtime's access-log entry. */
export interface ServeOptions<Entry> {
  root: string;
  host: string;
  port: number;
  htpasswdFile?: string;
  anonymousPull?: boolean;
  readOnlyUsers?: string[];
  uploadExpiryMs?: number;
  accessLog?: (entry: Entry) => void;
  /** Anything else createRegistry accepts (hooks, a custom authorizer). */
  registry?: Partial<RegistryOptions>;
}

/** The registry options a server's settings mean, given its runtime's store and hasher. */
export function toRegistryOptions(
  options: Omit<ServeOptions<never>, "accessLog">,
  runtime: { store: BlobStore; hasher: HasherFactory; htpasswd?: string },
): RegistryOptions {
  const { htpasswd } = runtime;
  return {
    store: runtime.store,
    hasher: runtime.hasher,
    uploadExpiryMs: options.uploadExpiryMs,
    ...options.registry,
    auth: htpasswd || options.registry?.auth
      ? { htpasswd, anonymousPull: options.anonymousPull, readOnlyUsers: options.readOnlyUsers, ...options.registry?.auth }
      : undefined,
  };
}
