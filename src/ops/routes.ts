// Operations endpoints, outside the OCI API: GET /healthz, GET /readyz, GET /metrics.
import type { Context } from "../context.ts";
import { RegistryError } from "../errors.ts";
import type { RegistryRouter } from "../routing.ts";
import { healthResponse, readinessResponse } from "./health.ts";


export function registerOpsRoutes(router: RegistryRouter, ctx: Context): void {
  const { options } = ctx.ops;
  router.get("/healthz", { access: "none" }, healthResponse);
  router.get("/readyz", { access: "none" }, () => readinessResponse(ctx.store, options.readinessTimeoutMs ?? 5000));
  if (options.metrics?.enabled === false) return;
  const token = options.metrics?.token;
  const peers = options.metrics?.peers ?? (() => Promise.resolve([]));
  const render = async () =>
    new Response(ctx.ops.metrics.set.render(await peers()), {
      headers: { "Content-Type": "text/plain; version=0.0.4; charset=utf-8", "Cache-Control": "no-store" },
    });
  if (token === undefined) {
    // Without a token: anyone auth knows (a user, or a holder of a token); everyone without auth.
    router.get("/metrics", { access: "authenticated" }, render);
    return;
  }
  router.get("/metrics", { access: "none" }, (request) => {
    if (!sameText(request.headers.get("authorization") ?? "", `Bearer ${token}`)) {
      throw new RegistryError("UNAUTHORIZED", null, { headers: { "WWW-Authenticate": 'Bearer realm="metrics"' } });
    }
    return render();
  });
}
/** Compares in time independent of where the texts differ (a token check). */
function sameText(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < Math.max(a.length, b.length); i++) diff |= (a.charCodeAt(i) | 0) ^ (b.charCodeAt(i) | 0);
  return diff === 0;
}
