import { ConfigError, createStoreFromConfig, registryOptionsFrom, resolveConfig, type Config, type RegistryOptions } from "../../src/index.ts";
import { R2Store } from "./r2-store.ts";

/**
 * Bindings, vars and secrets from wrangler.toml. Every BERTH_* variable of the option table
 * (src/config/options.ts) is read, as on Node and Deno; `BERTH_CONFIG` holds the config file's
 * YAML or JSON, and file options (BERTH_HTPASSWD) hold the file's contents (a secret).
 */
export interface Env {
  BUCKET: R2Bucket;
  [name: `BERTH_${string}`]: string | undefined;
}

/** The registry options of a Worker's env; a bad value throws a ConfigError naming the var. */
export async function registryOptionsOf(env: Env, waitUntil: RegistryOptions["waitUntil"]): Promise<RegistryOptions> {
  const config = await configOf(env);
  if (config.server.http2) throw new ConfigError("BERTH_HTTP2: on Workers, Cloudflare picks the protocol; remove it");
  if (config.server.workers !== 1) throw new ConfigError("BERTH_WORKERS: on Workers, Cloudflare runs as many isolates as the load needs; remove it");
  if (config.server.tlsCert || config.server.tlsKey) throw new ConfigError("BERTH_TLS_CERT/BERTH_TLS_KEY: on Workers, Cloudflare terminates TLS; remove them");
  const noFiles = (path: string) => Promise.reject(new ConfigError(`${path}: Workers have no files; put the contents in a secret (e.g. BERTH_HTPASSWD)`));
  const store = await createStoreFromConfig(config, () => storeOf(env, config));
  return registryOptionsFrom(config, { store, readText: noFiles, waitUntil });
}

/** The configuration of a Worker's env: BERTH_* vars over the BERTH_CONFIG file's contents. */
export function configOf(env: Env): Promise<Config> {
  const vars = env as unknown as Record<string, string | undefined>;
  const file = vars.BERTH_CONFIG?.trim() ? { text: vars.BERTH_CONFIG, name: "BERTH_CONFIG" } : undefined;
  // AWS_* secrets are read too: an S3 bucket (storage.s3.bucket) may replace the R2 binding.
  return resolveConfig({ env: (name) => (name === "BERTH_CONFIG" ? undefined : vars[name]), envHoldsContents: true, file });
}

export const storeOf = (env: Env, config: Config) => new R2Store(env.BUCKET, { partSize: config.storage.partSize });
