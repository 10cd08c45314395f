// GET /v2/_catalog[?n=<n>&last=<last>] — repository names in lexical order (Docker API).
import type { RegistryRouter } from "../routing.ts";
import type { Context } from "../context.ts";
import { migrateCatalog } from "../catalog-migration.ts";
import { CATALOG_PREFIX, catalogKey, nameFromCatalogKey } from "../paths.ts";
import { grantOf, queryInt } from "../routing.ts";
import { paginatedJson } from "./pagination.ts";

const CATALOG_ACCESS = () => ({ required: [{ type: "registry", name: "catalog", actions: ["*"] }], optional: [] });

export function registerCatalogRoutes(router: RegistryRouter, ctx: Context): void {
  router.get("/v2/_catalog", { access: CATALOG_ACCESS }, async (request) => {
    const url = new URL(request.url);
    const n = queryInt(url, "n");
    const last = url.searchParams.get("last") ?? undefined;
    await migrateCatalog(ctx);
    // Only what this caller may pull (anonymous callers see only what anonymous pulls reach).
    const grant = grantOf(request);
    // Index keys sort as names do (src/paths.ts): read from `last` until the page and one
    // more visible name (which says a next page exists) are found. A page costs a page.
    const want = n === undefined ? Infinity : n + 1;
    const names: string[] = [];
    let startAfter = last === undefined ? undefined : catalogKey(last);
    while (names.length < want && n !== 0) {
      const listing = await ctx.store.list(CATALOG_PREFIX, { startAfter, limit: Math.min(1000, want - names.length) });
      for (const key of listing.keys) {
        const name = nameFromCatalogKey(key);
        if ((last === undefined || name > last) && (await grant.mayPull(name))) names.push(name);
      }
      if (!listing.truncated) break;
      startAfter = listing.keys.at(-1);
    }
    const page = names.slice(0, n);
    return paginatedJson(url, { repositories: page }, page, n, names.length > page.length);
  });
}
