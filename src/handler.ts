import { Router } from "itty-router";
import { createContext, describeError, type Context } from "./context.ts";
import { errorResponse, RegistryError } from "./errors.ts";
import { clientGone, observe, requestIdOf, type ExchangeInfo } from "./ops/exchange.ts";
import { registerOpsRoutes } from "./ops/routes.ts";
import type { RegistryOptions } from "./options.ts";
import { registerBaseRoutes } from "./routes/base.ts";
import { registerBlobRoutes } from "./routes/blobs.ts";
import { registerCatalogRoutes } from "./routes/catalog.ts";
import { registerManifestRoutes } from "./routes/manifests.ts";
import { registerReferrerRoutes } from "./routes/referrers.ts";
import { registerTagRoutes } from "./routes/tags.ts";
import { registerUploadRoutes } from "./routes/uploads.ts";
import { unsupported, type RegistryRouter } from "./routing.ts";

export interface Registry {
  /** `info` is what a runtime knows of the connection (src/ops/exchange.ts); optional. */
  fetch(request: Request, info?: ExchangeInfo): Promise<Response>;
}

/** The whole registry as one portable `fetch` handler. */
export function createRegistry(options: RegistryOptions): Registry {
  const ctx = createContext(options);
  const router: RegistryRouter = Router({
    catch: (error, request) => answerError(ctx, error, request as unknown as Request),
    finally: [
      (response: Response | undefined) => {
        response?.headers.set("Docker-Distribution-API-Version", "registry/2.0");
        return response;
      },
    ],
  });
  registerOpsRoutes(router, ctx);
  registerBaseRoutes(router, ctx);
  registerCatalogRoutes(router, ctx);
  // Uploads before blobs: "/blobs/uploads/" would otherwise read as a blob digest.
  registerUploadRoutes(router, ctx);
  registerBlobRoutes(router, ctx);
  registerManifestRoutes(router, ctx);
  registerTagRoutes(router, ctx);
  registerReferrerRoutes(router, ctx);
  // Known resources with a method they do not support: 405; anything else: 404.
  for (const path of ["/v2/", "/v2/_catalog", "/v2/:name+/blobs/uploads/*", "/v2/:name+/blobs/:digest", "/v2/:name+/manifests/:ref", "/v2/:name+/tags/list", "/v2/:name+/referrers/:digest"]) {
    router.all(path, unsupported);
  }
  router.all("*", () => {
    throw new RegistryError("UNSUPPORTED", null, { status: 404, message: "no such endpoint" });
  });
  const { logger, metrics, options: ops } = ctx.ops;
  const route = (request: Request) => router.fetch(request) as Promise<Response>;
  return { fetch: observe({ logger, metrics, accessLog: ops.accessLog ?? false, trustProxy: ops.trustProxy ?? false }, route) };
}

/** The one error serializer; an unexpected error is logged with its request id, unless the client left. */
function answerError(ctx: Context, error: unknown, request: Request): Response {
  // A client that left mid-request is an outcome (499), not a failure: no stack trace.
  const quiet = clientGone(request, error);
  return errorResponse(error, request.method, (e) => {
    if (!quiet) ctx.ops.logger.error("unexpected error", { requestId: requestIdOf(request), method: request.method, path: new URL(request.url).pathname, error: describeError(e) });
  });
}
