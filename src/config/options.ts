/**
 * THE option table of Berth. Every setting is one row: its key in the config file, its flag,
 * its BERTH_* variable, its type and default, its help line. The CLI (Node and Deno), the
 * config file and the Worker's vars are all read through this table by src/config/load.ts,
 * so an option cannot exist in one place and not another. To add an option: add a row here
 * and a field to `Config` in src/config/schema.ts.
 */
import { parsePolicy } from "../auth/policy.ts";
import { checkRetention } from "../lifecycle/retention.ts";
import { checkUpstreams } from "../proxy/upstreams.ts";
import { checkLogFormat, checkLogLevel, checkWebhookEndpoints, checkWebhookUrls, checkWorkers } from "./ops-checks.ts";
import { ConfigError, type ValueKind } from "./values.ts";

export type Command = "serve" | "gc" | "du";

export interface OptionSpec {
  /** Dotted path in the config file and in `Config`, e.g. `auth.htpasswd`. */
  key: string;
  kind: ValueKind;
  /** `--flag` name (no dashes); booleans also take `--no-<flag>`. Omit for file-only keys. */
  flag?: string;
  /** Repeated flags add to a list instead of replacing it (`--upstream a --upstream b`). */
  repeatable?: boolean;
  /** BERTH_* variable. On Workers it is a var or a secret; a `file` kind there holds the contents. */
  env?: string;
  default?: unknown;
  /** Placeholder in the help text, e.g. `DIR`. */
  arg?: string;
  help: string;
  /** Commands whose command line takes the flag (default: serve). The file and env apply to all. */
  commands?: Command[];
  /** Only on the command line (e.g. `--dry-run`); never in the file or the environment. */
  flagOnly?: boolean;
  /** A boolean flag that sets its key to false (`--quiet` for `server.accessLog`). */
  invert?: boolean;
  /** Checks a structured value (policy rules, webhooks) and returns it typed; throws ConfigError. */
  check?: (value: unknown, source: string) => unknown;
}

export const COMMANDS: Record<Command, string> = {
  serve: "run the registry",
  gc: "remove what nothing references (see berth gc --help)",
  du: "show storage use per repository",
};

export const OPTIONS: OptionSpec[] = [
  { key: "config", kind: "file", flag: "config", env: "BERTH_CONFIG", arg: "FILE", commands: ["serve", "gc", "du"], help: "configuration file (YAML or JSON); flags and BERTH_* variables override it" },
  // storage
  { key: "storage.root", kind: "string", flag: "root", env: "BERTH_ROOT", default: "./data", arg: "DIR", commands: ["serve", "gc", "du"], help: "storage folder" },
  { key: "storage.partSize", kind: "bytes", env: "BERTH_PART_SIZE", default: 5 * 1024 * 1024, arg: "SIZE", help: "object stores (R2, S3): part size for bodies going up in parts, at least 5MiB" },
  { key: "storage.s3.bucket", kind: "string", flag: "s3-bucket", env: "BERTH_S3_BUCKET", arg: "NAME", commands: ["serve", "gc", "du"], help: "store everything in this S3 bucket instead of --root (several processes may share it; credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)" },
  { key: "storage.s3.endpoint", kind: "string", flag: "s3-endpoint", env: "BERTH_S3_ENDPOINT", arg: "URL", commands: ["serve", "gc", "du"], help: "S3-compatible endpoint, path-style (MinIO, Ceph, R2); default AWS" },
  { key: "storage.s3.region", kind: "string", flag: "s3-region", env: "BERTH_S3_REGION", default: "us-east-1", arg: "REGION", commands: ["serve", "gc", "du"], help: "S3 region (R2: auto)" },
  { key: "storage.s3.prefix", kind: "string", flag: "s3-prefix", env: "BERTH_S3_PREFIX", default: "", arg: "PREFIX", commands: ["serve", "gc", "du"], help: "keep every key under this prefix in the bucket" },
  { key: "storage.s3.redirect", kind: "boolean", flag: "s3-redirect", env: "BERTH_S3_REDIRECT", default: false, help: "answer blob GETs with a redirect to a presigned S3 URL" },
  // Credentials by their standard names, never flags (a command line shows in ps); never logged.
  { key: "storage.s3.accessKeyId", kind: "string", env: "AWS_ACCESS_KEY_ID", help: "S3 access key id" },
  { key: "storage.s3.secretAccessKey", kind: "string", env: "AWS_SECRET_ACCESS_KEY", help: "S3 secret access key" },
  { key: "storage.delete", kind: "boolean", flag: "delete", env: "BERTH_DELETE", default: true, help: "allow DELETE of manifests, tags and blobs (--no-delete: DELETE answers 405 UNSUPPORTED)" },
  // server
  { key: "server.host", kind: "string", flag: "host", env: "BERTH_HOST", default: "127.0.0.1", arg: "ADDR", help: "listen address" },
  { key: "server.port", kind: "port", flag: "port", env: "BERTH_PORT", default: 5000, arg: "N", help: "listen port, 0 for any free one" },
  { key: "server.accessLog", kind: "boolean", flag: "access-log", env: "BERTH_ACCESS_LOG", default: true, help: "one log line per request (--no-access-log or --quiet to turn off)" },
  { key: "server.accessLog", kind: "boolean", flag: "quiet", invert: true, flagOnly: true, help: "same as --no-access-log" },
  { key: "server.tlsCert", kind: "string", flag: "tls-cert", env: "BERTH_TLS_CERT", arg: "FILE", help: "serve HTTPS with this PEM certificate (a chain is fine); re-read when it changes" },
  { key: "server.tlsKey", kind: "string", flag: "tls-key", env: "BERTH_TLS_KEY", arg: "FILE", help: "the PEM private key of --tls-cert" },
  { key: "server.http2", kind: "boolean", flag: "http2", env: "BERTH_HTTP2", default: false, help: "with --tls-cert: offer HTTP/2 by ALPN as well as HTTP/1.1 (slower for big pushes, README)" },
  { key: "server.workers", kind: "count", flag: "workers", env: "BERTH_WORKERS", default: 1, arg: "N", check: checkWorkers, help: "serve from N processes sharing the port (node:cluster; 0: one per CPU core). Node only (README, Workers)" },
  { key: "server.trustProxy", kind: "boolean", flag: "trust-proxy", env: "BERTH_TRUST_PROXY", default: false, help: "take the client address from X-Forwarded-For (only behind a proxy that sets it)" },
  // logs, health, metrics
  { key: "log.format", kind: "string", flag: "log-format", env: "BERTH_LOG_FORMAT", default: "text", arg: "text|json", check: checkLogFormat, help: "log lines as text or as one JSON object each" },
  { key: "log.level", kind: "string", flag: "log-level", env: "BERTH_LOG_LEVEL", default: "info", arg: "LEVEL", check: checkLogLevel, help: "least important level logged: debug, info, warn, error" },
  { key: "health.timeout", kind: "duration", flag: "readiness-timeout", env: "BERTH_READINESS_TIMEOUT", default: 5000, arg: "TIME", help: "how long GET /readyz waits for the store's write, read and delete" },
  { key: "metrics.enabled", kind: "boolean", flag: "metrics", env: "BERTH_METRICS", default: true, help: "serve GET /metrics (Prometheus text; --no-metrics to turn off)" },
  { key: "metrics.token", kind: "string", env: "BERTH_METRICS_TOKEN", help: "GET /metrics asks for Authorization: Bearer <token> (else: any authenticated caller)" },
  // webhooks
  { key: "webhooks.urls", kind: "list", flag: "webhook", repeatable: true, env: "BERTH_WEBHOOKS", default: [], arg: "URL", check: checkWebhookUrls, help: "POST push and delete events to URL (repeatable; more settings in the file's webhooks.endpoints)" },
  { key: "webhooks.endpoints", kind: "object", default: [], check: checkWebhookEndpoints, help: "file only: endpoints with url, headers, events, secret, timeout, attempts, backoff" },
  { key: "webhooks.pulls", kind: "boolean", flag: "webhook-pulls", env: "BERTH_WEBHOOK_PULLS", default: false, help: "also send pull events to --webhook URLs" },
  { key: "webhooks.secret", kind: "string", env: "BERTH_WEBHOOK_SECRET", help: "HMAC-SHA256 key signing --webhook deliveries (X-Berth-Signature)" },
  { key: "webhooks.attempts", kind: "positive", env: "BERTH_WEBHOOK_ATTEMPTS", default: 5, help: "deliveries tried per event" },
  { key: "webhooks.backoff", kind: "duration", env: "BERTH_WEBHOOK_BACKOFF", default: 1000, help: "wait before the first retry, doubled for each next one (at most 60s)" },
  { key: "webhooks.timeout", kind: "duration", env: "BERTH_WEBHOOK_TIMEOUT", default: 5000, help: "per delivery attempt" },
  { key: "webhooks.queueSize", kind: "positive", env: "BERTH_WEBHOOK_QUEUE", default: 1000, help: "events waiting per endpoint at most; more are dropped with a warning" },
  // uploads and manifests
  { key: "uploads.expiry", kind: "duration", flag: "upload-expiry", env: "BERTH_UPLOAD_EXPIRY", default: 86_400_000, arg: "DURATION", commands: ["serve", "gc"], help: "how long an idle upload session lives (e.g. 24h; a bare number is seconds)" },
  { key: "manifests.maxBytes", kind: "bytes", flag: "max-manifest-size", env: "BERTH_MAX_MANIFEST_BYTES", default: 4 * 1024 * 1024, arg: "SIZE", help: "largest accepted manifest (e.g. 4MiB)" },
  // storage lifecycle (src/lifecycle)
  { key: "gc.grace", kind: "duration", flag: "grace", env: "BERTH_GC_GRACE", default: 3_600_000, arg: "DURATION", commands: ["serve", "gc"], help: "garbage collection never removes what was written, touched or referenced this recently (e.g. 0s, 30m, 1h)" },
  { key: "gc.deleteUntagged", kind: "boolean", flag: "delete-untagged", env: "BERTH_GC_DELETE_UNTAGGED", default: false, commands: ["serve", "gc"], help: "also collect manifests no tag reaches (index children and referrers of kept manifests stay)" },
  { key: "gc.dryRun", kind: "boolean", flag: "dry-run", flagOnly: true, commands: ["gc"], help: "show what would be removed (and what a retention policy would delete); change nothing" },
  { key: "gc.interval", kind: "duration", flag: "gc-interval", env: "BERTH_GC_INTERVAL", default: 0, arg: "DURATION", help: "collect garbage in the background this often, in small steps (0: off). Workers: a Cron Trigger" },
  { key: "gc.cacheTtl", kind: "duration", flag: "cache-ttl", env: "BERTH_GC_CACHE_TTL", default: 0, arg: "DURATION", commands: ["serve", "gc"], help: "pull-through cache: tags not pulled for this long are collected, with what only they kept (e.g. 30d; 0: never)" },
  { key: "retention", kind: "object", default: [], check: checkRetention, help: "config file only: retention rules per repository glob (README, Storage lifecycle)" },
  // auth
  { key: "auth.htpasswd", kind: "file", flag: "htpasswd", env: "BERTH_HTPASSWD", arg: "FILE", help: "users: a bcrypt htpasswd file (htpasswd -B); turns auth on" },
  { key: "auth.policy", kind: "document", flag: "policy", env: "BERTH_POLICY", arg: "FILE", check: checkPolicy, help: "access policy (YAML/JSON: groups and rules per repository glob); in the config file also inline" },
  { key: "auth.anonymousPull", kind: "boolean", flag: "anonymous-pull", env: "BERTH_ANONYMOUS_PULL", default: false, help: "shorthand policy: anyone may pull; pushing needs a user" },
  { key: "auth.readOnlyUsers", kind: "list", flag: "read-only", env: "BERTH_READ_ONLY_USERS", default: [], arg: "USERS", help: "shorthand policy: comma-separated users who may pull but not push or delete" },
  { key: "auth.reloadInterval", kind: "duration", env: "BERTH_AUTH_RELOAD_INTERVAL", default: 3000, arg: "DURATION", help: "how often the htpasswd and policy files are checked for changes (also on SIGHUP)" },
  { key: "auth.realm", kind: "string", flag: "realm", env: "BERTH_REALM", default: "Berth", arg: "NAME", help: "realm of the Basic challenge (library authorizers; the CLI issues Bearer tokens)" },
  { key: "auth.token.lifetime", kind: "duration", flag: "token-lifetime", env: "BERTH_TOKEN_LIFETIME", default: 300_000, arg: "DURATION", check: checkLifetime, help: "lifetime of issued access tokens, at least 60s" },
  { key: "auth.token.refreshLifetime", kind: "duration", env: "BERTH_TOKEN_REFRESH_LIFETIME", default: 30 * 86_400_000, arg: "DURATION", check: checkLifetime, help: "lifetime of refresh tokens (what docker login keeps instead of the password)" },
  { key: "auth.token.key", kind: "file", flag: "token-key", env: "BERTH_TOKEN_KEY", arg: "FILE", help: "ES256 signing key (PEM PKCS#8 or JWK); default: generated once and kept in the store" },
  { key: "auth.token.issuer", kind: "string", flag: "token-issuer", env: "BERTH_TOKEN_ISSUER", default: "berth", arg: "NAME", help: "iss of issued tokens" },
  { key: "auth.token.service", kind: "string", flag: "token-service", env: "BERTH_TOKEN_SERVICE", default: "berth", arg: "NAME", help: "service named in challenges, aud of tokens" },
  { key: "auth.token.realm", kind: "string", flag: "token-realm", env: "BERTH_TOKEN_REALM", arg: "URL", help: "token endpoint URL in challenges (default: <request origin>/auth/token; set it behind a proxy)" },
  { key: "auth.token.trust", kind: "object", check: checkTrust, help: "external token servers to trust: a list of {issuer, service, keys (PEM/JWK/JWKS text) or keysFile}" },
  // pull-through cache
  { key: "proxy.upstreams", kind: "list", flag: "upstream", repeatable: true, env: "BERTH_UPSTREAM", default: [], arg: "[NS=]URL", check: checkUpstreams, help: "pull-through cache of URL (every repository), or of URL for names under NS/ (repeatable); credentials as https://user:pass@host" },
  // The file's form of the same key: a list of URL / NS=URL strings or {namespace, url, username, password}.
  { key: "proxy.upstreams", kind: "object", check: checkUpstreams, help: "upstreams (file): [{namespace, url, username, password}]" },
  { key: "proxy.tagTtl", kind: "duration", flag: "upstream-tag-ttl", env: "BERTH_UPSTREAM_TAG_TTL", default: 300_000, arg: "DURATION", help: "how long a cached tag is served before it is revalidated upstream with a HEAD" },
  { key: "proxy.timeout", kind: "duration", flag: "upstream-timeout", env: "BERTH_UPSTREAM_TIMEOUT", default: 15_000, arg: "DURATION", help: "an upstream that has not answered within this counts as down" },
  // web UI and browsers
  { key: "ui.enabled", kind: "boolean", flag: "ui", env: "BERTH_UI", default: true, help: "serve the web UI at / and /ui/ and its JSON API at /api/ui/ (--no-ui to turn off)" },
  { key: "cors.origins", kind: "list", flag: "cors-origins", env: "BERTH_CORS_ORIGINS", default: [], arg: "ORIGINS", help: "comma-separated origins other web apps may call the API from (* for any); none by default" },
];

function checkPolicy(value: unknown, source: string): unknown {
  const data = (value as { data?: object }).data;
  if (data !== undefined) {
    try {
      parsePolicy(data);
    } catch (error) {
      throw new ConfigError(`${source}: ${(error as Error).message}`);
    }
  }
  return value;
}

function checkLifetime(value: unknown, source: string): unknown {
  if ((value as number) < 60_000) throw new ConfigError(`${source}: tokens must live at least 60s`);
  return value;
}

export interface TrustedIssuerConfig {
  issuer: string;
  service?: string;
  keys?: string;
  keysFile?: string;
}

function checkTrust(value: unknown, source: string): TrustedIssuerConfig[] {
  if (!Array.isArray(value)) throw new ConfigError(`${source}: expected a list of {issuer, service, keys or keysFile}`);
  return value.map((entry, index) => {
    const where = `${source}[${index}]`;
    if (!entry || typeof entry !== "object") throw new ConfigError(`${where}: expected a mapping`);
    const { issuer, service, keys, keysFile, ...rest } = entry as Record<string, unknown>;
    if (Object.keys(rest).length) throw new ConfigError(`${where}.${Object.keys(rest)[0]}: unknown key (issuer, service, keys, keysFile)`);
    if (typeof issuer !== "string" || !issuer) throw new ConfigError(`${where}.issuer: expected the iss its tokens carry`);
    if (service !== undefined && typeof service !== "string") throw new ConfigError(`${where}.service: expected a string`);
    if ((typeof keys === "string") === (typeof keysFile === "string")) throw new ConfigError(`${where}: give keys (PEM, JWK or JWKS text) or keysFile, one of them`);
    return { issuer, service: service as string | undefined, keys: keys as string | undefined, keysFile: keysFile as string | undefined };
  });
}

/** Every BERTH_* variable the table reads. */
export const ENV_NAMES: string[] = [...new Set(OPTIONS.flatMap((option) => (option.env?.startsWith("BERTH_") ? [option.env] : [])))];
/** The standard variables the table reads besides BERTH_* (S3 credentials). */
export const STANDARD_ENV_NAMES: string[] = [...new Set(OPTIONS.flatMap((option) => (option.env && !option.env.startsWith("BERTH_") ? [option.env] : [])))];
