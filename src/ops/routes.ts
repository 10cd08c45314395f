// Operations endpoints, outside the OCI API: GET /healthz, GET /readyz, GET /metrics.
import type { Context } from "../context.ts";
import { RegistryError } from "../errors.ts";
import type { RegistryRouter } from "../routing.ts";
import { healthResponse, readinessResponse } from "./health.ts";

export function registerOpsRoutes(router: RegistryRouter, ctx: Context): void {
  const { options } = ctx.ops;
  router.get("/healthz", healthResponse);
  router.get("/readyz", () => readinessResponse(ctx.store, options.readinessTimeoutMs ?? 5000));
  if (options.metrics?.enabled === false) return;
  const token = options.metrics?.token;
  router.get("/metrics", async (request) => {
    if (token !== undefined) {
      if (!sameText(request.headers.get("authorization") ?? "", `Bearer ${token}`)) {
        throw new RegistryError("UNAUTHORIZED", null, { headers: { "WWW-Authenticate": 'Bearer realm="metrics"' } });
      }
    } else {
      // Without a token: whoever may list the whole registry may read its metrics.
      await ctx.checkAccess(request as unknown as Request, { name: "", action: "catalog" });
    }
    return new Response(ctx.ops.metrics.set.render(), {
      headers: { "Content-Type": "text/plain; version=0.0.4; charset=utf-8", "Cache-Control": "no-store" },
    });
  });
}

/** Compares in time independent of where the texts differ (a token check). */
function sameText(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < Math.max(a.length, b.length); i++) diff |= (a.charCodeAt(i) | 0) ^ (b.charCodeAt(i) | 0);
  return diff === 0;
}
