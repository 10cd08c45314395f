// end-1: GET /v2/ — the API version check, and where clients learn about auth.
import type { RegistryRouter } from "../routing.ts";
import type { Context } from "../context.ts";

export function registerBaseRoutes(router: RegistryRouter, ctx: Context): void {
  router.get("/v2/", async (request) => {
    await ctx.checkAccess(request as unknown as Request, { name: "", action: "pull" });
    return Response.json({});
  });
}
