/** The operations side of one registry: its logger, metrics, webhooks and health settings. */
import type { ManifestEvent, RegistryHooks } from "../options.ts";
import { requestFacts } from "./exchange.ts";
import { createLogger, type Logger } from "./log.ts";
import { createRegistryMetrics, type RegistryMetrics } from "./registry-metrics.ts";
import { instanceId, WebhookSink, type WebhookAction, type WebhookEndpoint, type WebhookEvent } from "./webhooks.ts";

export interface OpsOptions {
  /** Where Berth's lines go; default text at level info on the console. */
  logger?: Logger;
  /** One access line per request. Default off for library use; `berth serve` turns it on. */
  accessLog?: boolean;
  /** Take the client address from X-Forwarded-For (only behind a proxy that sets it). */
  trustProxy?: boolean;
  /** `GET /metrics`: on by default; `token` makes it ask for `Authorization: Bearer <token>`. */
  metrics?: { enabled?: boolean; token?: string };
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

const ACTIONS: Partial<Record<keyof RegistryHooks, WebhookAction>> = {
  onManifestPushed: "push",
  onManifestPulled: "pull",
  onManifestDeleted: "delete",
};

export function createOps(options: OpsOptions, background: (work: () => Promise<unknown>) => void): Ops {
  const logger = options.logger ?? createLogger();
  const metrics = createRegistryMetrics();
  const sinks = (options.webhooks ?? []).map((endpoint) => new WebhookSink(endpoint, { logger, metrics, background }));
  return {
    logger,
    metrics,
    options,
    publish(hook, event, request) {
      const action = ACTIONS[hook];
      if (!action || !request || !sinks.length) return;
      const wanting = sinks.filter((sink) => sink.wants(action));
      if (!wanting.length) return;
      const body = JSON.stringify({ events: [webhookEvent(action, event as ManifestEvent, request, options.trustProxy ?? false)] });
      for (const sink of wanting) sink.enqueue(body);
    },
  };
}

function webhookEvent(action: WebhookAction, event: ManifestEvent, request: Request, trustProxy: boolean): WebhookEvent {
  const url = new URL(request.url);
  const facts = requestFacts(request, trustProxy);
  const tag = event.reference === event.digest ? undefined : event.reference;
  return {
    id: crypto.randomUUID(),
    timestamp: new Date().toISOString(),
    action,
    target: {
      mediaType: event.mediaType,
      digest: event.digest,
      size: event.size,
      length: event.size,
      repository: event.name,
      url: `${url.origin}/v2/${event.name}/manifests/${event.digest}`,
      tag,
    },
    request: { id: facts.id, addr: facts.addr, host: url.host, method: request.method, useragent: facts.userAgent },
    actor: { name: facts.user },
    source: { addr: url.host, instanceID: instanceId() },
  };
}
