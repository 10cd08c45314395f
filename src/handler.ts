import { Router, type IRequest, type RouteEntry } from "itty-router";
import { createContext, type Context } from "./context.ts";
import { withCors } from "./cors.ts";
import { API_VERSION, errorResponse, RegistryError } from "./errors.ts";
import type { RegistryOptions } from "./options.ts";
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
  fetch(request: Request): Promise<Response>;
  /** Re-read what may have changed (the htpasswd file, the policy) now; runtimes call it on SIGHUP. */
  reload(): Promise<void>;
}

/** The whole registry as one portable `fetch` handler. */
export function createRegistry(options: RegistryOptions): Registry {
  const ctx = createContext(options);
  const table = new RouteTable();
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

  const rows = compileRows(table.rows, (row) => row.handler);
  const notFound: RouteEntry = ["ALL", /^/, [noSuchEndpoint], "*"] as unknown as RouteEntry;
  const router = Router({
    routes: [...rows.map((compiled) => compiled.entry), notFound],
    before: [(request: IRequest) => authorizeRequest(ctx, rows, request)],
    catch: (error, request) => errorResponse(error, request.method),
    finally: [
      (response: Response | undefined) => {
        response?.headers.set("Docker-Distribution-API-Version", API_VERSION);
        return response;
      },
    ],
  });
  const routed = withCors(options.corsOrigins ?? [], (request) => router.fetch(request) as Promise<Response>);
  // Refused request lines first (src/request-line.ts): on Deno `request.url` is still the raw target.
  const fetch = async (request: Request) => rejectRequestLine(request.method, request.url) ?? routed(request);
  return { fetch, reload: () => ctx.reloadAuth() };
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
  if (access !== "none") request.grant = await ctx.authorizer.authorize(request as unknown as Request, access);
  return undefined;
}

function noSuchEndpoint(): never {
  throw new RegistryError("UNSUPPORTED", null, { status: 404, message: "no such endpoint" });
}
