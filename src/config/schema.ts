/**
 * The typed configuration every runtime builds from src/config/options.ts. Each field is a
 * row of that table (the dotted key is the path here); src/config/load.ts fills it.
 */
import type { LogFormat, LogLevel } from "../ops/log.ts";
import type { WebhookEndpoint } from "../ops/webhooks.ts";
import type { RetentionRule } from "../lifecycle/retention.ts";
import type { UpstreamOptions } from "../proxy/upstreams.ts";
import type { TrustedIssuerConfig } from "./options.ts";
import type { DocumentRef, FileRef } from "./values.ts";

export interface Config {
  /** The configuration file this was read from, if any. */
  config?: FileRef;
  storage: {
    root: string;
    /** bytes */
    partSize: number;
    /** false: DELETE answers 405 */
    delete: boolean;
    s3: {
      bucket?: string;
      endpoint?: string;
      region: string;
      prefix: string;
      redirect: boolean;
      accessKeyId?: string;
      secretAccessKey?: string;
    };
  };
  server: { host: string; port: number; accessLog: boolean; tlsCert?: string; tlsKey?: string; http2: boolean; trustProxy: boolean; /** 0: one per CPU core */ workers: number };
  log: { format: LogFormat; level: LogLevel };
  health: { /** ms */ timeout: number };
  metrics: { enabled: boolean; token?: string };
  webhooks: {
    urls: string[];
    endpoints: WebhookEndpoint[];
    pulls: boolean;
    secret?: string;
    attempts: number;
    /** ms */ backoff: number;
    /** ms */ timeout: number;
    queueSize: number;
  };
  uploads: { /** ms */ expiry: number };
  manifests: { maxBytes: number };
  gc: { /** ms */ grace: number; deleteUntagged: boolean; /** only from --dry-run */ dryRun?: boolean; /** ms, 0: off */ interval: number; /** ms, 0: off */ cacheTtl: number };
  retention: RetentionRule[];
  ui: { enabled: boolean };
  cors: { origins: string[] };
  auth: {
    htpasswd?: FileRef;
    policy?: DocumentRef;
    anonymousPull: boolean;
    readOnlyUsers: string[];
    /** ms */
    reloadInterval: number;
    realm: string;
    token: {
      /** ms */
      lifetime: number;
      /** ms */
      refreshLifetime: number;
      key?: FileRef;
      issuer: string;
      service: string;
      realm?: string;
      trust?: TrustedIssuerConfig[];
    };
  };
  proxy: { upstreams: UpstreamOptions[]; /** ms */ tagTtl: number; /** ms */ timeout: number };
}
