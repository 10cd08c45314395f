// end-8a, end-8b: GET /v2/<name>/tags/list[?n=<n>&last=<last>]
import type { RegistryRouter } from "../routing.ts";
import type { Context } from "../context.ts";
import { RegistryError } from "../errors.ts";
import { tagFromKey, tagKey, tagsPrefix } from "../paths.ts";
import { repositoryExists } from "../repository.ts";
import { nameOf, queryInt } from "../routing.ts";
import { paginatedJson } from "./pagination.ts";

export function registerTagRoutes(router: RegistryRouter, ctx: Context): void {
  router.get("/v2/:name+/tags/list", async (request) => {
    const name = nameOf(request);
    if (!(await repositoryExists(ctx, name))) throw new RegistryError("NAME_UNKNOWN", { name });
    const url = new URL(request.url);
    const n = queryInt(url, "n");
    const last = url.searchParams.get("last") ?? undefined;
    const page =
      n === 0
        ? { keys: [], truncated: false }
        : await ctx.store.list(tagsPrefix(name), { startAfter: last === undefined ? undefined : tagKey(name, last), limit: n });
    const tags = page.keys.map((key) => tagFromKey(name, key));
    return paginatedJson(url, { name, tags }, tags, n, page.truncated);
  });
}
