import { Router } from "itty-router";
import { createContext } from "./context.ts";
import { API_VERSION, errorResponse, RegistryError } from "./errors.ts";
import type { RegistryOptions } from "./options.ts";
import { rejectRequestLine } from "./request-line.ts";
import { registerBaseRoutes } from "./routes/base.ts";
import { registerBlobRoutes } from "./routes/blobs.ts";
import { registerCatalogRoutes } from "./routes/catalog.ts";
import { registerManifestRoutes } from "./routes/manifests.ts";
import { registerReferrerRoutes } from "./routes/referrers.ts";
import { registerTagRoutes } from "./routes/tags.ts";
import { registerUploadRoutes } from "./routes/uploads.ts";
import { unsupported, type RegistryRouter } from "./routing.ts";

export interface Registry {
  fetch(request: Request): Promise<Response>;
}

/** The whole registry as one portable `fetch` handler. */
export function createRegistry(options: RegistryOptions): Registry {
  const ctx = createContext(options);
  const router: RegistryRouter = Router({
    catch: (error, request) => errorResponse(error, request.method),
    finally: [
      (response: Response | undefined) => {
        response?.headers.set("Docker-Distribution-API-Version", API_VERSION);
        return response;
      },
    ],
  });
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
  return {
    // Refused request lines first: on Deno `request.url` is still the raw target.
    fetch: async (request) => rejectRequestLine(request.method, request.url) ?? (router.fetch(request) as Promise<Response>),
  };
}
