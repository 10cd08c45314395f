/**
 * What a configuration means for `createRegistry`, on every runtime. The runtime hands in
 * what differs (its store, its hasher, how it reads a file); everything else is decided here
 * once, including the checks that stop a bad configuration at startup.
 */
import { buildState } from "../auth/auth-state.ts";
import { invalidCorsOrigins } from "../cors.ts";
import { importPublicKeys, importSigningKey } from "../auth/keys.ts";
import type { HasherFactory } from "../hashing.ts";
import { createLogger, type Logger } from "../ops/log.ts";
import type { MetricsSnapshot } from "../ops/metrics.ts";
import type { WebhookEndpoint } from "../ops/webhooks.ts";
import type { AuthOptions, RegistryOptions } from "../options.ts";
import type { BlobStore } from "../storage/blob-store.ts";
import { readConfigText, readFileRef } from "./load.ts";
import type { Config } from "./schema.ts";
import { ConfigError, type DocumentRef, type FileRef } from "./values.ts";

export interface RuntimeParts {
  store: BlobStore;
  hasher?: HasherFactory;
  /** Reads a file the configuration names; Workers have none (their files come as contents). */
  readText: (path: string) => Promise<string>;
  waitUntil?: (promise: Promise<unknown>) => void;
  /** How the pull-through cache fetches its upstreams (default: the global fetch). */
  fetch?: (request: Request) => Promise<Response>;
  /** The runtime's logger (made with `loggerFrom(config)`), so its own lines share the format. */
  logger?: Logger;
  /** The counts of the other processes serving beside this one (`--workers`), summed into /metrics. */
  metricsPeers?: () => Promise<MetricsSnapshot[]>;
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
  if (Boolean(config.server.tlsCert) !== Boolean(config.server.tlsKey)) {
    throw new ConfigError(`${config.server.tlsCert ? "--tls-cert needs --tls-key" : "--tls-key needs --tls-cert"} (server.tlsCert and server.tlsKey)`);
  }
  if (config.server.http2 && !config.server.tlsCert) throw new ConfigError("--http2 needs --tls-cert and --tls-key (server.http2: HTTP/2 is offered over TLS only)");
  const badOrigins = invalidCorsOrigins(config.cors.origins);
  if (badOrigins.length) throw new ConfigError(`--cors-origins (cors.origins): not an origin like https://ui.example.com or *: ${badOrigins.join(", ")}`);
  return {
    store: runtime.store,
    hasher: runtime.hasher,
    waitUntil: runtime.waitUntil,
    uploadExpiryMs: config.uploads.expiry,
    maxManifestBytes: config.manifests.maxBytes,
    proxy: config.proxy.upstreams.length ? { upstreams: config.proxy.upstreams, tagTtlMs: config.proxy.tagTtl, timeoutMs: config.proxy.timeout, fetch: runtime.fetch } : undefined,
    logger: runtime.logger ?? loggerFrom(config),
    accessLog: config.server.accessLog,
    trustProxy: config.server.trustProxy,
    metrics: { enabled: config.metrics.enabled, token: config.metrics.token, peers: runtime.metricsPeers },
    readinessTimeoutMs: config.health.timeout,
    webhooks: webhooksFrom(config),
    deletes: config.storage.delete,
    ui: config.ui.enabled,
    corsOrigins: config.cors.origins,
    auth: await authOptionsFrom(config.auth, runtime.readText),
  };
}

const nameOf = (ref: FileRef | DocumentRef, key: string, env: string) => ("path" in ref ? ref.path : `${key} (${env})`);

/** Users, policy and token settings, each read and checked now so that a bad one stops the start. */
async function authOptionsFrom(auth: Config["auth"], readText: RuntimeParts["readText"]): Promise<AuthOptions | undefined> {
  if (!auth.htpasswd) {
    const given = auth.anonymousPull ? "--anonymous-pull" : auth.readOnlyUsers.length ? "--read-only" : auth.policy ? "--policy" : auth.token.key ? "--token-key" : auth.token.trust ? "auth.token.trust" : null;
    if (given) throw new ConfigError(`${given} needs users: give --htpasswd FILE (auth.htpasswd)`);
    return undefined;
  }
  if (auth.policy && (auth.anonymousPull || auth.readOnlyUsers.length)) {
    throw new ConfigError(`${auth.anonymousPull ? "--anonymous-pull" : "--read-only"} is a shorthand for a policy; with --policy, write it as a rule there`);
  }
  const htpasswd = await readFileRef(auth.htpasswd, readText);
  const policyRef = auth.policy;
  const policy = policyRef === undefined ? undefined : "data" in policyRef ? policyRef.data : await readFileRef(policyRef, readText);
  try {
    await buildState(htpasswd, policy, { htpasswd, anonymousPull: auth.anonymousPull, readOnlyUsers: auth.readOnlyUsers });
  } catch (error) {
    const [source, ...rest] = (error as Error).message.split(": ");
    const ref = source === "policy" ? policyRef! : auth.htpasswd;
    throw new ConfigError(`${nameOf(ref, `auth.${source}`, source === "policy" ? "BERTH_POLICY" : "BERTH_HTPASSWD")}: ${rest.join(": ")}`);
  }
  const signingKey = auth.token.key ? await readFileRef(auth.token.key, readText) : undefined;
  if (signingKey !== undefined) {
    await importSigningKey(signingKey).catch((error: Error) => {
      throw new ConfigError(`${nameOf(auth.token.key!, "auth.token.key", "BERTH_TOKEN_KEY")}: ${error.message}`);
    });
  }
  const trust = [];
  for (const [index, entry] of (auth.token.trust ?? []).entries()) {
    const keys = entry.keys ?? (await readConfigText(entry.keysFile!, readText));
    await importPublicKeys(keys).catch((error: Error) => {
      throw new ConfigError(`auth.token.trust[${index}]: ${error.message}`);
    });
    trust.push({ issuer: entry.issuer, service: entry.service, keys });
  }
  const htpasswdPath = "path" in auth.htpasswd ? auth.htpasswd.path : undefined;
  const policyPath = policyRef && "path" in policyRef ? policyRef.path : undefined;
  return {
    htpasswd,
    policy,
    anonymousPull: auth.anonymousPull,
    readOnlyUsers: auth.readOnlyUsers,
    realm: auth.realm,
    // Files can change under a running server; contents (Workers secrets) change with a deploy.
    reload: htpasswdPath || policyPath
      ? {
          htpasswd: htpasswdPath ? () => readText(htpasswdPath) : undefined,
          policy: policyPath ? () => readText(policyPath) : undefined,
          intervalMs: auth.reloadInterval,
        }
      : undefined,
    token: {
      issuer: auth.token.issuer,
      service: auth.token.service,
      lifetimeMs: auth.token.lifetime,
      refreshLifetimeMs: auth.token.refreshLifetime,
      realm: auth.token.realm,
      signingKey,
      trust,
    },
  };
}
