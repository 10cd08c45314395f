/**
 * The pull-through cache's state for one registry: its upstream clients, what is being
 * fetched right now (so concurrent misses share one upstream fetch, per process), its counts
 * in the registry's metrics (berth_proxy_*), and the cache status of each answered request
 * (for the X-Berth-Cache header).
 */
import { RegistryError } from "../errors.ts";
import type { RegistryMetrics } from "../ops/registry-metrics.ts";
import { UpstreamClient, UpstreamUnavailable, type FetchFunction, type UpstreamErrorReason } from "./upstream-client.ts";
import { matchUpstream, type UpstreamOptions } from "./upstreams.ts";

export interface ProxyOptions {
  upstreams: UpstreamOptions[];
  /** How long a cached tag is served before it is revalidated with a HEAD. Default 5 min. */
  tagTtlMs?: number;
  /** Upstream response headers must arrive within this. Default 15 s. */
  timeoutMs?: number;
  /** How upstreams are fetched; default the global fetch (tests and embedders pass theirs). */
  fetch?: FetchFunction;
}

export type CacheStatus = "hit" | "miss" | "stale";

/** A request's cache status rides on it under a symbol, as all per-request state does (docs/design.md). */
const CACHE_STATUS = Symbol("berth.cacheStatus");
type WithCacheStatus = { [CACHE_STATUS]?: CacheStatus };

export interface Proxied {
  client: UpstreamClient;
  /** The repository name at the upstream. */
  remote: string;
  /** Token scope for pulls of `remote`. */
  scope: string;
}

export class PullThrough {
  readonly tagTtlMs: number;
  private readonly clients: Map<UpstreamOptions, UpstreamClient>;
  private readonly inflight = new Map<string, Promise<unknown>>();

  constructor(
    readonly options: ProxyOptions,
    private readonly metrics: RegistryMetrics,
  ) {
    this.tagTtlMs = options.tagTtlMs ?? 5 * 60_000;
    const fetchUpstream = options.fetch ?? ((request: Request) => fetch(request));
    const onError = (upstream: string, reason: UpstreamErrorReason) => metrics.upstreamErrors.inc({ upstream, reason });
    this.clients = new Map(options.upstreams.map((u) => [u, new UpstreamClient(u, fetchUpstream, options.timeoutMs ?? 15_000, onError)]));
  }

  /** Blob and manifest bytes that arrived from an upstream. */
  countUpstreamBytes(bytes: number): void {
    this.metrics.upstreamBytes.inc({}, bytes);
  }

  /** The upstream that serves repository `name`, or undefined for a normal repository. */
  match(name: string): Proxied | undefined {
    const found = matchUpstream(this.options.upstreams, name);
    if (!found) return undefined;
    return { client: this.clients.get(found.upstream)!, remote: found.remote, scope: `repository:${found.remote}:pull` };
  }

  /** Run `work` once per key at a time: later callers share the running promise. */
  once<T>(key: string, work: () => Promise<T>): Promise<T> {
    const running = this.inflight.get(key) as Promise<T> | undefined;
    if (running) return running;
    const promise = work().finally(() => this.inflight.delete(key));
    this.inflight.set(key, promise);
    return promise;
  }

  running(key: string): Promise<unknown> | undefined {
    return this.inflight.get(key);
  }

  setStatus(request: object, status: CacheStatus): void {
    (request as WithCacheStatus)[CACHE_STATUS] = status;
    this.metrics.cache.inc({ result: status });
  }

  statusOf(request: object): CacheStatus | undefined {
    return (request as WithCacheStatus)[CACHE_STATUS];
  }

  /**
   * containerd's mirrors add `?ns=<registry host>`: `/v2/library/alpine/...?ns=docker.io` is
   * `/v2/docker.io/library/alpine/...` here, when `docker.io` is a proxied namespace.
   */
  rewriteNamespace(request: Request): Request {
    if (request.method !== "GET" && request.method !== "HEAD") return request;
    const url = new URL(request.url);
    const ns = url.searchParams.get("ns");
    if (!ns || !this.options.upstreams.some((u) => u.namespace === ns && ns !== "")) return request;
    const rest = url.pathname.slice("/v2/".length);
    if (!url.pathname.startsWith("/v2/") || rest === "" || rest.startsWith("_catalog") || rest.startsWith(`${ns}/`)) return request;
    url.pathname = `/v2/${ns}/${rest}`;
    url.searchParams.delete("ns");
    return new Request(url, request);
  }
}

/** An upstream answer that is not the content: the error the client gets for it. */
export async function upstreamStatusError(response: Response, what: string): Promise<RegistryError> {
  await response.body?.cancel();
  const where = `upstream answered ${response.status} for ${what}`;
  if (response.status >= 500) return new UpstreamUnavailable(where);
  if (response.status === 429) return new RegistryError("TOOMANYREQUESTS", null, { message: where });
  if (response.status === 401 || response.status === 403) return new RegistryError("DENIED", null, { message: where });
  return new RegistryError("UNAVAILABLE", null, { status: 502, message: where });
}
