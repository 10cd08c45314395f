/** The operations side of one registry: its logger, metrics, webhooks and health settings. */
import type { BlobMountEvent, ManifestEvent, RegistryHooks } from "../options.ts";
import { requestFacts } from "./exchange.ts";
import { createLogger, type Logger } from "./log.ts";
import type { MetricsSnapshot } from "./metrics.ts";
import { createRegistryMetrics, type RegistryMetrics } from "./registry-metrics.ts";
import { instanceId, WebhookSink, type WebhookAction, type WebhookEndpoint, type WebhookEvent } from "./webhooks.ts";

export interface OpsOptions {
  /** Where Berth's lines go; default text at level info on the console. */
  logger?: Logger;
  /** One access line per request. Default off for library use; `berth serve` turns it on. */
  accessLog?: boolean;
  /** Take the client address from X-Forwarded-For (only behind a proxy that sets it). */
  trustProxy?: boolean;
  /**
   * `GET /metrics`: on by default; `token` makes it ask for `Authorization: Bearer <token>`.
   * `peers`: the snapshots of the other processes serving beside this one (`registry.metricsSnapshot()`
   * of each), summed into every scrape, so any process answers for all of them.
   */
  metrics?: { enabled?: boolean; token?: string; peers?: () => Promise<MetricsSnapshot[]> };
  /** How long `/readyz` waits for the store. Default 5 s. */
  readinessTimeoutMs?: number;
  webhooks?: WebhookEndpoint[];
}

export interface Ops {
  logger: Logger;
  metrics: RegistryMetrics;
  options: OpsOptions;
  /** Turn a hook's event into webhook deliveries, if any endpoint wants it. */
  publish(hook: keyof RegistryHooks, event: unknown, request?: Request): void;
}

/** The hooks webhooks send, as distribution's actions; blob events carry the blob media type. */
const ACTIONS: Partial<Record<keyof RegistryHooks, { action: WebhookAction; blob: boolean }>> = {
  onManifestPushed: { action: "push", blob: false },
  onManifestPulled: { action: "pull", blob: false },
  onManifestDeleted: { action: "delete", blob: false },
  onBlobPushed: { action: "push", blob: true },
  onBlobMounted: { action: "mount", blob: true },
  onBlobPulled: { action: "pull", blob: true },
  onBlobDeleted: { action: "delete", blob: true },
};

export const BLOB_MEDIA_TYPE = "application/octet-stream";

export function createOps(options: OpsOptions, background: (work: () => Promise<unknown>) => void): Ops {
  const logger = options.logger ?? createLogger();
  const metrics = createRegistryMetrics();
  const sinks = (options.webhooks ?? []).map((endpoint) => new WebhookSink(endpoint, { logger, metrics, background }));
  return {
    logger,
    metrics,
    options,
    publish(hook, event, request) {
      const kind = ACTIONS[hook];
      if (!kind || !request || !sinks.length) return;
      const mediaType = kind.blob ? BLOB_MEDIA_TYPE : (event as ManifestEvent).mediaType;
      const wanting = sinks.filter((sink) => sink.wants(kind.action, mediaType));
      if (!wanting.length) return;
      const body = JSON.stringify({ events: [webhookEvent(kind.action, kind.blob, event as ManifestEvent & BlobMountEvent, request, options.trustProxy ?? false)] });
      for (const sink of wanting) sink.enqueue(body);
    },
  };
}

function webhookEvent(action: WebhookAction, blob: boolean, event: Partial<ManifestEvent & BlobMountEvent>, request: Request, trustProxy: boolean): WebhookEvent {
  const url = new URL(request.url);
  const facts = requestFacts(request, trustProxy);
  const tag = blob || event.reference === event.digest ? undefined : event.reference;
  return {
    id: crypto.randomUUID(),
    timestamp: new Date().toISOString(),
    action,
    target: {
      mediaType: blob ? BLOB_MEDIA_TYPE : event.mediaType,
      digest: event.digest!,
      size: event.size,
      length: event.size,
      repository: event.name!,
      ...(event.from !== undefined && { fromRepository: event.from }),
      url: `${url.origin}/v2/${event.name}/${blob ? "blobs" : "manifests"}/${event.digest}`,
      tag,
    },
    request: { id: facts.id, addr: facts.addr, host: url.host, method: request.method, useragent: facts.userAgent },
    actor: { name: facts.user },
    source: { addr: url.host, instanceID: instanceId() },
  };
}
