// GET /v2/_catalog[?n=<n>&last=<last>] — repository names in lexical order (Docker API).
import type { RegistryRouter } from "../routing.ts";
import type { Context } from "../context.ts";
import { CATALOG_PREFIX, nameFromCatalogKey } from "../paths.ts";
import { listAll } from "../repository.ts";
import { grantOf, queryInt } from "../routing.ts";
import { paginatedJson } from "./pagination.ts";

const CATALOG_ACCESS = () => ({ required: [{ type: "registry", name: "catalog", actions: ["*"] }], optional: [] });

export function registerCatalogRoutes(router: RegistryRouter, ctx: Context): void {
  router.get("/v2/_catalog", { access: CATALOG_ACCESS }, async (request) => {
    const url = new URL(request.url);
    const n = queryInt(url, "n");
    const last = url.searchParams.get("last") ?? "";
    // Keys do not sort like names ("a/_repo" vs "a-b/_repo"), so names are sorted here.
    const all = (await listAll(ctx, CATALOG_PREFIX)).map(nameFromCatalogKey).sort().filter((name) => name > last);
    // Only what this caller may pull (anonymous callers see only what anonymous pulls reach).
    const grant = grantOf(request);
    const names = [];
    for (const name of all) if (await grant.mayPull(name)) names.push(name);
    const page = n === undefined ? names : names.slice(0, n);
    return paginatedJson(url, { repositories: page }, page, n, page.length < names.length);
  });
}
