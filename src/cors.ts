/**
 * CORS for web apps on other origins (other registry UIs, tools). Preflights are answered
 * here, before routing and auth: a browser never sends credentials on an OPTIONS preflight,
 * so a registry that challenges it (distribution#4458) can never be called from a page.
 * Off unless origins are configured.
 */

// What a page may read from responses: digests, upload locations, pagination, challenges.
const EXPOSED = [
  "Docker-Content-Digest", "Docker-Upload-UUID", "Docker-Distribution-API-Version", "Location", "Range",
  "Link", "Content-Length", "WWW-Authenticate", "OCI-Subject", "OCI-Filters-Applied", "OCI-Chunk-Min-Length",
].join(", ");
const METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";
const ALLOWED_HEADERS = "Authorization, Content-Type, Content-Length, Content-Range, Range, Accept, Docker-Content-Digest";

export type FetchHandler = (request: Request) => Promise<Response>;

/** `origins` are exact origins (`https://ui.example.com`) or `*`; checked with `checkCorsOrigins` first. */
export function withCors(origins: string[], next: FetchHandler): FetchHandler {
  if (origins.length === 0) return next;
  const any = origins.includes("*");
  const allowed = new Set(origins);
  const allowOrigin = (origin: string | null) => (origin !== null && (any || allowed.has(origin)) ? origin : null);
  // With "*", pages send their own Authorization header; the browser's stored credentials
  // (a Basic login it remembers) are only shared with origins named one by one.
  const setOrigin = (headers: Headers, origin: string) => {
    headers.set("Access-Control-Allow-Origin", any ? "*" : origin);
    if (!any) headers.set("Access-Control-Allow-Credentials", "true");
  };
  return async (request) => {
    const origin = allowOrigin(request.headers.get("origin"));
    if (request.method === "OPTIONS" && request.headers.has("access-control-request-method")) {
      const headers = new Headers({ Vary: "Origin" });
      if (origin) {
        setOrigin(headers, origin);
        headers.set("Access-Control-Allow-Methods", METHODS);
        headers.set("Access-Control-Allow-Headers", request.headers.get("access-control-request-headers") || ALLOWED_HEADERS);
        headers.set("Access-Control-Max-Age", "600");
      }
      return new Response(null, { status: 204, headers });
    }
    const response = await next(request);
    if (!origin) return response;
    // In place: the registry's responses are its own (mutable headers), and a body may ride
    // beside the Response (src/bytes-response.ts), which a copy would lose.
    setOrigin(response.headers, origin);
    response.headers.set("Access-Control-Expose-Headers", EXPOSED);
    response.headers.append("Vary", "Origin");
    return response;
  };
}

/** The origins that are not `*` or a bare `scheme://host[:port]` (no path, no trailing slash). */
export function invalidCorsOrigins(origins: string[]): string[] {
  return origins.filter((origin) => {
    if (origin === "*") return false;
    try {
      return new URL(origin).origin !== origin;
    } catch {
      return true;
    }
  });
}
