import { Router, type IRequest, type RouteEntry } from "itty-router";
import { createContext, describeError, type Context } from "./context.ts";
import { withBytesInside } from "./bytes-response.ts";
import { withCors } from "./cors.ts";
import { API_VERSION, errorResponse, RegistryError } from "./errors.ts";
import { clientGone, observe, requestIdOf, type ExchangeInfo } from "./ops/exchange.ts";
import { registerOpsRoutes } from "./ops/routes.ts";
import type { GcObserver } from "./lifecycle/state.ts";
import type { MetricsSnapshot } from "./ops/metrics.ts";
import { gcObserverOf } from "./ops/registry-metrics.ts";
import type { RegistryOptions } from "./options.ts";
import { markCacheStatus, withPullThrough } from "./proxy/routes.ts";
import { rejectRequestLine } from "./request-line.ts";
import { registerBaseRoutes } from "./routes/base.ts";
import { registerBlobRoutes } from "./routes/blobs.ts";
import { registerCatalogRoutes } from "./routes/catalog.ts";
import { registerManifestRoutes } from "./routes/manifests.ts";
import { registerReferrerRoutes } from "./routes/referrers.ts";
import { registerTagRoutes } from "./routes/tags.ts";
import { registerTokenRoutes } from "./routes/token.ts";
import { registerUploadRoutes } from "./routes/uploads.ts";
import { accessOf, compileRows, matchRow, RouteTable, type CompiledRow } from "./routing.ts";
import { registerUiRoutes } from "./ui/routes.ts";

export interface Registry {
  /** `info` is what a runtime knows of the connection (src/ops/exchange.ts); optional. */
  fetch(request: Request, info?: ExchangeInfo): Promise<Response>;
  /** Re-read what may have changed (the htpasswd file, the policy) now; runtimes call it on SIGHUP. */
  reload(): Promise<void>;
  /** Hand to a collection run in this process (`startGcSchedule`, a Worker's slices): its runs land in this registry's /metrics. */
  gcObserver: GcObserver;
  /** What this process has counted, for a peer's /metrics (`metrics.peers`). */
  metricsSnapshot(): MetricsSnapshot;
}

/** The whole registry as one portable `fetch` handler. */
export function createRegistry(options: RegistryOptions): Registry {
  const ctx = createContext(options);
  const table = new RouteTable();
  registerOpsRoutes(table, ctx);
  registerBaseRoutes(table, ctx);
  registerCatalogRoutes(table, ctx);
  // Uploads before blobs: "/blobs/uploads/" would otherwise read as a blob digest.
  registerUploadRoutes(table, ctx);
  registerBlobRoutes(table, ctx);
  registerManifestRoutes(table, ctx);
  registerTagRoutes(table, ctx);
  registerReferrerRoutes(table, ctx);
  registerTokenRoutes(table, ctx);
  if (options.ui !== false) registerUiRoutes(table, ctx);

  // Pull-through cache: in front of each handler, fills the store for proxied repositories (then the row answers).
  const proxy = ctx.proxy;
  const rows = compileRows(table.rows, (row) => (proxy ? withPullThrough(ctx, proxy, row.handler) : row.handler));
  const notFound: RouteEntry = ["ALL", /^/, [noSuchEndpoint], "*"] as unknown as RouteEntry;
  const router = Router({
    routes: [...rows.map((compiled) => compiled.entry), notFound],
    before: [(request: IRequest) => authorizeRequest(ctx, rows, request)],
    catch: (error, request) => answerError(ctx, error, request as unknown as Request),
    finally: [
      (response: Response | undefined, request: IRequest) => {
        response?.headers.set("Docker-Distribution-API-Version", API_VERSION);
        if (response && proxy) markCacheStatus(proxy, request, response);
        return response;
      },
    ],
  });
  const { logger, metrics, options: ops } = ctx.ops;
  const routed = withCors(options.corsOrigins ?? [], (request) => router.fetch(proxy ? proxy.rewriteNamespace(request) : request) as Promise<Response>);
  // Refused request lines first (src/request-line.ts): on Deno `request.url` is still the raw target.
  const route = async (request: Request) => rejectRequestLine(request.method, request.url) ?? routed(request);
  const observed = observe({ logger, metrics, accessLog: ops.accessLog ?? false, trustProxy: ops.trustProxy ?? false }, route);
  const fetch = async (request: Request, info?: ExchangeInfo) => {
    const response = await observed(request, info);
    return info?.writesBytes ? response : withBytesInside(response);
  };
  return { fetch, reload: () => ctx.reloadAuth(), gcObserver: gcObserverOf(metrics), metricsSnapshot: () => metrics.set.snapshot() };
}

/** The one error serializer; an unexpected error is logged with its request id, unless the client left. */
function answerError(ctx: Context, error: unknown, request: Request): Response {
  // A client that left mid-request is an outcome (499), not a failure: no stack trace.
  const quiet = clientGone(request, error);
  return errorResponse(error, request.method, (e) => {
    if (!quiet) ctx.ops.logger.error("unexpected error", { requestId: requestIdOf(request), method: request.method, path: new URL(request.url).pathname, error: describeError(e) });
  });
}

/**
 * The before stage: find the request's row, answer 405 for a known path with another
 * method, and authorize once with the access the row needs (the Grant rides on the request).
 */
async function authorizeRequest(ctx: Context, rows: CompiledRow[], request: IRequest): Promise<undefined> {
  const match = matchRow(rows, request.method, new URL(request.url).pathname);
  if (!match) return undefined; // no such endpoint: the fallback answers 404
  request.params = match.params;
  const access = accessOf(match.row, request);
  if (access === "none") return undefined;
  try {
    request.grant = await ctx.authorizer.authorize(request as unknown as Request, access);
  } catch (error) {
    // The one place auth refuses: 401 with a challenge, or 403 for a known caller not allowed.
    if (error instanceof RegistryError && (error.code === "UNAUTHORIZED" || error.code === "DENIED")) {
      ctx.ops.metrics.refused.inc({ reason: error.code === "DENIED" ? "denied" : "challenge" });
    }
    throw error;
  }
  return undefined;
}

function noSuchEndpoint(): never {
  throw new RegistryError("UNSUPPORTED", null, { status: 404, message: "no such endpoint" });
}
