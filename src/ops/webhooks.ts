/**
 * Webhooks: distribution's notification envelope (`{"events":[...]}`, media type
 * application/vnd.docker.distribution.events.v1+json) POSTed to each endpoint for manifest
 * and blob pushes (blob mounts too), pulls (off unless an endpoint asks) and deletes. Each endpoint has its own bounded
 * queue delivered in order, one event per envelope, retried with exponential backoff; a full
 * queue drops the newest event with a warning. Nothing here ever waits inside a request:
 * `publish` only enqueues, and delivery runs as background work (Workers: waitUntil).
 */
import type { Logger } from "./log.ts";
import type { RegistryMetrics } from "./registry-metrics.ts";

/** `mount` (a blob linked from another repository) is sent wherever `push` is. */
export type WebhookAction = "push" | "pull" | "delete" | "mount";

export interface WebhookEndpoint {
  url: string;
  /** Extra request headers (e.g. Authorization for the receiver). Never logged. */
  headers?: Record<string, string>;
  /** Actions sent; default push and delete (a blob mount counts as push). */
  events?: WebhookAction[];
  /** Targets of these media types are not sent, e.g. `application/octet-stream`: no blob events. */
  ignoredMediaTypes?: string[];
  /** Signs each body: `X-Berth-Signature: sha256=<hex HMAC-SHA256 of the body>`. */
  secret?: string;
  /** Per attempt. Default 5 s. */
  timeoutMs?: number;
  /** Attempts per event, the first included. Default 5. */
  attempts?: number;
  /** Wait before the first retry, doubled for each next one (at most 60 s). Default 1 s. */
  backoffMs?: number;
  /** Events waiting at most; more are dropped. Default 1000. */
  queueSize?: number;
}

/** One event of the envelope, as distribution writes it. */
export interface WebhookEvent {
  id: string;
  timestamp: string;
  action: WebhookAction;
  target: { mediaType?: string; digest: string; size?: number; length?: number; repository: string; fromRepository?: string; url: string; tag?: string };
  request: { id?: string; addr?: string; host: string; method: string; useragent?: string };
  actor: { name?: string };
  source: { addr: string; instanceID: string };
}

export const EVENTS_MEDIA_TYPE = "application/vnd.docker.distribution.events.v1+json";
// Made on first use: Workers forbid random values at module scope.
let INSTANCE_ID: string | undefined;
export const instanceId = () => (INSTANCE_ID ??= crypto.randomUUID());

export interface WebhookRuntime {
  logger: Logger;
  metrics: RegistryMetrics;
  background: (work: () => Promise<unknown>) => void;
}

export class WebhookSink {
  private readonly queue: string[] = [];
  private draining: Promise<void> | undefined;
  private readonly events: Set<WebhookAction>;

  constructor(
    private readonly endpoint: WebhookEndpoint,
    private readonly runtime: WebhookRuntime,
  ) {
    this.events = new Set(endpoint.events ?? ["push", "delete"]);
  }

  wants(action: WebhookAction, mediaType: string | undefined): boolean {
    if (mediaType !== undefined && this.endpoint.ignoredMediaTypes?.includes(mediaType)) return false;
    return this.events.has(action === "mount" ? "push" : action);
  }

  /** Queue an event's envelope; returns at once. */
  enqueue(body: string): void {
    if (this.queue.length >= (this.endpoint.queueSize ?? 1000)) {
      this.runtime.metrics.webhooks.inc({ outcome: "dropped" });
      this.runtime.logger.warn("webhook queue full, event dropped", { endpoint: safeUrl(this.endpoint.url) });
      return;
    }
    this.queue.push(body);
    this.draining ??= this.drain().finally(() => (this.draining = undefined));
    // Each request that adds an event also keeps the delivery alive (Workers' waitUntil).
    const draining = this.draining;
    this.runtime.background(() => draining);
  }

  private async drain(): Promise<void> {
    while (this.queue.length) {
      await this.deliver(this.queue[0]!);
      this.queue.shift();
    }
  }

  private async deliver(body: string): Promise<void> {
    const { url, attempts = 5, backoffMs = 1000, timeoutMs = 5000 } = this.endpoint;
    const headers: Record<string, string> = { ...this.endpoint.headers, "Content-Type": EVENTS_MEDIA_TYPE };
    if (this.endpoint.secret) headers["X-Berth-Signature"] = `sha256=${await hmacHex(this.endpoint.secret, body)}`;
    for (let attempt = 1; ; attempt++) {
      let problem: string;
      try {
        const response = await fetch(url, { method: "POST", headers, body, signal: AbortSignal.timeout(timeoutMs) });
        await response.body?.cancel().catch(() => {});
        if (response.ok) {
          this.runtime.metrics.webhooks.inc({ outcome: "delivered" });
          return;
        }
        problem = `status ${response.status}`;
      } catch (error) {
        problem = error instanceof Error ? error.message : String(error);
      }
      if (attempt >= attempts) {
        this.runtime.metrics.webhooks.inc({ outcome: "dropped" });
        this.runtime.logger.warn("webhook delivery failed, event dropped", { endpoint: safeUrl(url), attempts: attempt, error: problem });
        return;
      }
      this.runtime.metrics.webhooks.inc({ outcome: "retried" });
      this.runtime.logger.debug("webhook delivery failed, retrying", { endpoint: safeUrl(url), attempt, error: problem });
      await new Promise((resolve) => setTimeout(resolve, Math.min(60_000, backoffMs * 2 ** (attempt - 1))));
    }
  }
}

/** An endpoint's URL for logs: no credentials, no query (it may hold a token). */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return "(invalid url)";
  }
}

async function hmacHex(secret: string, body: string): Promise<string> {
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const signature = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(body)));
  return Array.from(signature, (b) => b.toString(16).padStart(2, "0")).join("");
}
