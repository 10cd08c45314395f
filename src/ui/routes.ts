// The web UI: GET / and /ui/* answer the one HTML page (the client routes by its address),
// /ui/assets/<name>.<hash>.<ext> the bundled assets, /api/ui/* the JSON API (api.ts).
import type { Context } from "../context.ts";
import type { RegistryRouter } from "../routing.ts";
import { registerUiApi } from "./api.ts";
import { ASSETS, SHELL } from "./assets.ts";

// Names carry a content hash, so an asset never changes under its name: cache it for a year.
// The page itself is revalidated, so a new version's page names the new assets.
const IMMUTABLE = "public, max-age=31536000, immutable";
const SECURITY = {
  "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "same-origin",
};

export function registerUiRoutes(router: RegistryRouter, ctx: Context): void {
  registerUiApi(router, ctx);
  const page = () =>
    new Response(SHELL, { headers: { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-cache", ...SECURITY } });
  const open = { access: "none" } as const; // the page and its assets are public; the data is not
  router.get("/ui/assets/:file", open, (request) => {
    const asset = ASSETS[request.params.file ?? ""];
    if (!asset) return new Response("not found\n", { status: 404, headers: { "Content-Type": "text/plain" } });
    const etag = `"${asset.hash}"`;
    const headers = { "Content-Type": asset.type, "Cache-Control": IMMUTABLE, ETag: etag, "X-Content-Type-Options": "nosniff" };
    if (request.headers.get("if-none-match") === etag) return new Response(null, { status: 304, headers });
    return new Response(asset.body, { headers });
  });
  for (const path of ["/", "/ui/*"]) {
    router.get(path, open, page);
    router.head(path, open, () => new Response(null, { headers: page().headers }));
  }
}
