/**
 * The metrics of a registry, named as distribution names them (registry_http_*,
 * registry_storage_*) so existing dashboards work, plus Berth's own (berth_*).
 */
import type { GcObserver } from "../lifecycle/state.ts";
import { Counter, DURATION_BUCKETS, Gauge, Histogram, MetricSet, SIZE_BUCKETS } from "./metrics.ts";

export interface ExchangeRecord {
  handler: string;
  method: string;
  status: number;
  seconds: number;
  bytesIn?: number;
  bytesOut?: number;
  aborted: boolean;
}

export function createRegistryMetrics() {
  const set = new MetricSet();
  const m = {
    set,
    requests: set.add(new Counter("registry_http_requests_total", "Total number of HTTP requests made.")),
    duration: set.add(new Histogram("registry_http_request_duration_seconds", "The HTTP request latencies in seconds.", DURATION_BUCKETS)),
    inFlight: set.add(new Gauge("registry_http_in_flight_requests", "The in-flight HTTP requests.")),
    requestSize: set.add(new Histogram("registry_http_request_size_bytes", "The HTTP request sizes in bytes.", SIZE_BUCKETS)),
    responseSize: set.add(new Histogram("registry_http_response_size_bytes", "The HTTP response sizes in bytes.", SIZE_BUCKETS)),
    storage: set.add(new Histogram("registry_storage_action_seconds", "The number of seconds that the storage action takes.", DURATION_BUCKETS)),
    pushed: set.add(new Counter("berth_bytes_pushed_total", "Bytes written to the store by pushes (upload parts and manifests).")),
    pulled: set.add(new Counter("berth_bytes_pulled_total", "Body bytes sent for blob and manifest GETs.")),
    uploads: set.add(new Counter("berth_uploads_total", "Blob uploads by outcome: started, finished, failed.")),
    webhooks: set.add(new Counter("berth_webhook_deliveries_total", "Webhook deliveries by outcome: delivered, retried, dropped.")),
    tokens: set.add(new Counter("berth_token_requests_total", "Token endpoint requests by grant_type (password, refresh_token; GET: basic, anonymous) and outcome: granted, denied, invalid.")),
    refused: set.add(new Counter("berth_auth_refused_total", "Requests auth refused, by reason: challenge (401 with WWW-Authenticate), denied (403 DENIED).")),
    gcRuns: set.add(new Counter("berth_gc_runs_total", "Garbage collections in this process by outcome: started, completed, failed.")),
    gcDeleted: set.add(new Counter("berth_gc_deleted_total", "What garbage collection removed, by kind: blob, manifest, tag, upload.")),
    gcFreed: set.add(new Counter("berth_gc_bytes_freed_total", "Blob bytes garbage collection removed.")),
    cache: set.add(new Counter("berth_proxy_cache_requests_total", "Pull-through cache answers by result: hit, miss (fetched from the upstream), stale (cached tag served, upstream unreachable).")),
    upstreamBytes: set.add(new Counter("berth_proxy_upstream_bytes_total", "Blob and manifest bytes read from upstreams.")),
    upstreamErrors: set.add(new Counter("berth_proxy_upstream_errors_total", "Failed upstream requests by upstream and reason: unreachable, refused (credentials or token), status (an error answer).")),
  };
  return m;
}

export type RegistryMetrics = ReturnType<typeof createRegistryMetrics>;

/**
 * What a collection running in this process reports to its metrics (`serve --gc-interval`,
 * a Worker's Cron slices); a dry run removes nothing, so it counts only as a run.
 */
export function gcObserverOf(m: RegistryMetrics): GcObserver {
  return {
    started: () => m.gcRuns.inc({ outcome: "started" }),
    failed: () => m.gcRuns.inc({ outcome: "failed" }),
    finished(report) {
      m.gcRuns.inc({ outcome: "completed" });
      if (report.dryRun) return;
      m.gcDeleted.inc({ kind: "blob" }, report.blobs);
      m.gcDeleted.inc({ kind: "manifest" }, report.manifests.length);
      m.gcDeleted.inc({ kind: "tag" }, report.tags.length);
      m.gcDeleted.inc({ kind: "upload" }, report.uploads);
      m.gcFreed.inc({}, report.bytes);
    },
  };
}

/** Count one finished request in every metric it touches. */
export function recordExchange(m: RegistryMetrics, e: ExchangeRecord): void {
  const code = e.aborted && e.status < 400 ? "499" : String(e.status);
  m.requests.inc({ handler: e.handler, code, method: e.method });
  m.duration.observe({ handler: e.handler }, e.seconds);
  m.requestSize.observe({ handler: e.handler }, e.bytesIn ?? 0);
  m.responseSize.observe({ handler: e.handler }, e.bytesOut ?? 0);
  if (e.method === "GET" && (e.handler === "blob" || e.handler === "manifest") && e.bytesOut) m.pulled.inc({}, e.bytesOut);
  if (e.handler === "blob_upload" && e.method === "POST" && e.status === 202) m.uploads.inc({ outcome: "started" });
  if (e.handler === "blob_upload" || e.handler === "blob_upload_chunk") {
    if (e.status === 201) m.uploads.inc({ outcome: "finished" });
    else if ((e.status >= 400 && e.status !== 401 && e.status !== 404) || e.aborted) m.uploads.inc({ outcome: "failed" });
  }
}

/** distribution's handler names, from the route pattern itty-router matched (`request.route`). */
const HANDLERS: Array<[RegExp, string]> = [
  // itty-router keeps patterns without their trailing slash ("/v2/" is "/v2").
  [/^\/v2\/?$/, "base"],
  [/^\/v2\/_catalog$/, "catalog"],
  [/\/blobs\/uploads\/?$/, "blob_upload"],
  [/\/blobs\/uploads\/./, "blob_upload_chunk"],
  [/\/blobs\//, "blob"],
  [/\/manifests\//, "manifest"],
  [/\/tags\/list$/, "tags"],
  [/\/referrers\//, "referrers"],
  [/^\/(healthz|readyz)$/, "health"],
  [/^\/metrics$/, "metrics"],
  [/^\/(auth)\//, "token"],
  [/^\/(ui|api\/ui)(\/|$)|^\/?$/, "ui"],
];
const handlerCache = new Map<string, string>();

export function handlerOf(route: string | undefined): string {
  if (route === undefined) return "other";
  let handler = handlerCache.get(route);
  if (handler === undefined) {
    handler = HANDLERS.find(([pattern]) => pattern.test(route))?.[1] ?? "other";
    handlerCache.set(route, handler);
  }
  return handler;
}
