// GET /v2/_catalog[?n=<n>&last=<last>] — repository names in lexical order (Docker API).
import type { RegistryRouter } from "../routing.ts";
import type { Context } from "../context.ts";
import { migrateCatalog } from "../catalog-migration.ts";
import { CATALOG_PREFIX, catalogKey, nameFromCatalogKey } from "../paths.ts";
import { queryInt, requireAccess } from "../routing.ts";
import { paginatedJson } from "./pagination.ts";

export function registerCatalogRoutes(router: RegistryRouter, ctx: Context): void {
  router.get("/v2/_catalog", requireAccess(ctx, "catalog"), async (request) => {
    const url = new URL(request.url);
    const n = queryInt(url, "n");
    const last = url.searchParams.get("last") ?? undefined;
    await migrateCatalog(ctx);
    // Index keys sort as names do (src/paths.ts), so a page is one listing from `last`.
    const listing = n === 0 ? { keys: [], truncated: false } : await ctx.store.list(CATALOG_PREFIX, { startAfter: last === undefined ? undefined : catalogKey(last), limit: n });
    const page = listing.keys.map(nameFromCatalogKey).filter((name) => last === undefined || name > last);
    return paginatedJson(url, { repositories: page }, page, n, listing.truncated);
  });
}
