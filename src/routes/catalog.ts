// GET /v2/_catalog[?n=<n>&last=<last>] — repository names in lexical order (Docker API).
import type { RegistryRouter } from "../routing.ts";
import type { Context } from "../context.ts";
import { CATALOG_PREFIX, nameFromCatalogKey } from "../paths.ts";
import { listAll } from "../repository.ts";
import { queryInt, requireAccess } from "../routing.ts";
import { paginatedJson } from "./pagination.ts";

export function registerCatalogRoutes(router: RegistryRouter, ctx: Context): void {
  router.get("/v2/_catalog", requireAccess(ctx, "catalog"), async (request) => {
    const url = new URL(request.url);
    const n = queryInt(url, "n");
    const last = url.searchParams.get("last") ?? "";
    // Keys do not sort like names ("a/_repo" vs "a-b/_repo"), so names are sorted here.
    const names = (await listAll(ctx, CATALOG_PREFIX)).map(nameFromCatalogKey).sort().filter((name) => name > last);
    const page = n === undefined ? names : names.slice(0, n);
    return paginatedJson(url, { repositories: page }, page, n, page.length < names.length);
  });
}
