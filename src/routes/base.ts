// end-1: GET /v2/ — the API version check, and where clients learn about auth.
import type { RegistryRouter } from "../routing.ts";
import type { Context } from "../context.ts";

export function registerBaseRoutes(router: RegistryRouter, _ctx: Context): void {
  // No scope, but a caller must be someone (or hold a token): this is what `docker login` checks.
  router.get("/v2/", { access: "authenticated" }, async () => Response.json({}));
}
