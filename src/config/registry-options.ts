/**
 * What a configuration means for `createRegistry`, on every runtime. The runtime hands in
 * what differs (its store, its hasher, how it reads a file); everything else is decided here
 * once, including the checks that stop a bad configuration at startup.
 */
import type { HasherFactory } from "../hashing.ts";
import { createLogger, type Logger } from "../ops/log.ts";
import type { WebhookEndpoint } from "../ops/webhooks.ts";
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
  /** The runtime's logger (made with `loggerFrom(config)`), so its own lines share the format. */
  logger?: Logger;
}

/** The logger a configuration asks for. */
export const loggerFrom = (config: Config): Logger => createLogger({ format: config.log.format, level: config.log.level });

/** `--webhook` URLs (with the shared settings) and the file's endpoints, as one list. */
function webhooksFrom({ webhooks: w }: Config): WebhookEndpoint[] {
  const shared = { attempts: w.attempts, backoffMs: w.backoff, timeoutMs: w.timeout, queueSize: w.queueSize };
  const fromUrls = w.urls.map((url): WebhookEndpoint => ({ url, secret: w.secret, events: w.pulls ? ["push", "pull", "delete"] : ["push", "delete"], ...shared }));
  const fromFile = w.endpoints.map((endpoint): WebhookEndpoint => ({
    ...endpoint,
    attempts: endpoint.attempts ?? shared.attempts,
    backoffMs: endpoint.backoffMs ?? shared.backoffMs,
    timeoutMs: endpoint.timeoutMs ?? shared.timeoutMs,
    queueSize: endpoint.queueSize ?? shared.queueSize,
  }));
  return [...fromUrls, ...fromFile];
}

export async function registryOptionsFrom(config: Config, runtime: RuntimeParts): Promise<RegistryOptions> {
  const { auth } = config;
  if (!auth.htpasswd && (auth.anonymousPull || auth.readOnlyUsers.length)) {
    throw new ConfigError(`${auth.anonymousPull ? "--anonymous-pull" : "--read-only"} needs users: give --htpasswd FILE (auth.htpasswd)`);
  }
  if (Boolean(config.server.tlsCert) !== Boolean(config.server.tlsKey)) {
    throw new ConfigError(`${config.server.tlsCert ? "--tls-cert needs --tls-key" : "--tls-key needs --tls-cert"} (server.tlsCert and server.tlsKey)`);
  }
  const htpasswd = auth.htpasswd ? await readFileRef(auth.htpasswd, runtime.readText) : undefined;
  return {
    store: runtime.store,
    hasher: runtime.hasher,
    waitUntil: runtime.waitUntil,
    uploadExpiryMs: config.uploads.expiry,
    maxManifestBytes: config.manifests.maxBytes,
    logger: runtime.logger ?? loggerFrom(config),
    accessLog: config.server.accessLog,
    trustProxy: config.server.trustProxy,
    metrics: { enabled: config.metrics.enabled, token: config.metrics.token },
    readinessTimeoutMs: config.health.timeout,
    webhooks: webhooksFrom(config),
    auth: htpasswd === undefined ? undefined : { htpasswd, anonymousPull: auth.anonymousPull, readOnlyUsers: auth.readOnlyUsers, realm: auth.realm },
  };
}
