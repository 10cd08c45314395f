/**
 * The UI's JSON API, for what the OCI API does not give: push dates, sizes, platforms,
 * tag counts, and what the caller may do. Read-only (deletes go through DELETE /v2/...),
 * paginated, and authorized like /v2/ from the route table: the list needs the catalog and
 * shows what the caller may pull; the others need pull on the repository and ask for delete
 * as an optional scope, which is what `canDelete` reports (see docs/web-ui.md).
 *
 *   GET /api/ui/repositories?q=&n=&last=                       repositories the caller may pull
 *   GET /api/ui/repositories/<name>/tags?n=&last=|offset=&sort=name|date
 *   GET /api/ui/repositories/<name>/manifests/<reference>      one manifest, config, referrers
 */
import type { Context } from "../context.ts";
import { RegistryError } from "../errors.ts";
import { migrateCatalog } from "../catalog-migration.ts";
import { CATALOG_PREFIX, nameFromCatalogKey, tagsPrefix } from "../paths.ts";
import { listAll, readRepositoryPushedAt, repositoryExists } from "../repository.ts";
import { grantOf, nameOf, queryInt, type Access, type RegistryRouter } from "../routing.ts";
import type { IRequest } from "itty-router";
import { describeManifest } from "./manifest-view.ts";
import { ConfigFactsCache } from "./summaries.ts";
import { DateOrderCache, listTagPage } from "./tag-page.ts";

const MAX_PAGE = 500;
const CATALOG: () => Access = () => ({ required: [{ type: "registry", name: "catalog", actions: ["*"] }], optional: [] });
const PULL_MAYBE_DELETE = (request: IRequest): Access => ({
  required: [{ type: "repository", name: nameOf(request), actions: ["pull"] }],
  optional: [{ type: "repository", name: nameOf(request), actions: ["delete"] }],
});
const mayDelete = (request: IRequest) => grantOf(request).granted("repository", nameOf(request), "delete");

export function registerUiApi(router: RegistryRouter, ctx: Context): void {
  const configFacts = new ConfigFactsCache();
  const dateOrder = new DateOrderCache();

  router.get("/api/ui/repositories", { access: CATALOG }, async (request) => {
    const url = new URL(request.url);
    const n = pageSize(url, 50);
    const last = url.searchParams.get("last") ?? "";
    const q = (url.searchParams.get("q") ?? "").trim().toLowerCase();
    await migrateCatalog(ctx); // a store of the first index layout (src/catalog-migration.ts)
    const names = (await listAll(ctx, CATALOG_PREFIX)).map(nameFromCatalogKey).sort();
    const page: string[] = [];
    let more = false;
    for (const name of names) {
      if (name <= last || (q && !name.includes(q))) continue;
      if (!(await grantOf(request).mayPull(name))) continue; // hidden, not an error
      if (page.length === n) {
        more = true;
        break;
      }
      page.push(name);
    }
    const repositories = await Promise.all(page.map(async (name) => ({
      name,
      namespace: name.includes("/") ? name.slice(0, name.lastIndexOf("/")) : "",
      tagCount: await countKeys(ctx, tagsPrefix(name)),
      pushedAt: await readRepositoryPushedAt(ctx, name),
    })));
    return json({ repositories, next: more ? page.at(-1) : null });
  });

  router.get("/api/ui/repositories/:name+/tags", { access: PULL_MAYBE_DELETE }, async (request) => {
    const name = nameOf(request);
    if (!(await repositoryExists(ctx, name))) throw new RegistryError("NAME_UNKNOWN", { name });
    const url = new URL(request.url);
    const sort = url.searchParams.get("sort") ?? "name";
    if (sort !== "name" && sort !== "date") throw new RegistryError("UNSUPPORTED", { sort }, { status: 400, message: "sort is name or date" });
    const page = await listTagPage(ctx, name, configFacts, dateOrder, {
      sort, n: pageSize(url, 100), last: url.searchParams.get("last") ?? undefined, offset: queryInt(url, "offset") ?? 0,
    });
    return json({ name, canDelete: mayDelete(request), ...page });
  });

  router.get("/api/ui/repositories/:name+/manifests/:reference", { access: PULL_MAYBE_DELETE }, async (request) => {
    const name = nameOf(request);
    const view = await describeManifest(ctx, name, request.params.reference ?? "");
    return json({ ...view, canDelete: mayDelete(request) });
  });
}

function pageSize(url: URL, fallback: number): number {
  const n = queryInt(url, "n") ?? fallback;
  if (n < 1 || n > MAX_PAGE) throw new RegistryError("PAGINATION_NUMBER_INVALID", { n }, { message: `n is 1 to ${MAX_PAGE}` });
  return n;
}

/** One unlimited list (stores page internally): a file tree walks the folder once, not once per 1,000. */
const countKeys = async (ctx: Context, prefix: string): Promise<number> => (await ctx.store.list(prefix)).keys.length;

const json = (body: unknown) => new Response(JSON.stringify(body), { headers: { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store" } });
