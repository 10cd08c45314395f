/**
 * Request lines Berth refuses before routing, decided once for every runtime. A shim that
 * sees the raw request target (Node's `req.url`) passes it in before building a Request;
 * the handler checks `request.url` again, which is the raw target on Deno (its server keeps
 * it) and what the runtime's server left of it elsewhere (workerd normalises dot segments
 * and "\" before the Worker runs: runtimes/cloudflare/README.md).
 */
import { errorResponse, RegistryError } from "./errors.ts";

// The Fetch standard forbids these in a Request (Node's `new Request` throws on them), and
// no registry endpoint takes them: one answer, 405 UNSUPPORTED, on every runtime.
const UNREPRESENTABLE_METHODS = new Set(["CONNECT", "TRACE", "TRACK"]);

// A path URL parsing would rewrite: a dot segment ("." or "..", literal or %2e), a backslash
// (WHATWG URL reads it as "/") or an empty segment ("//"). A proxy in front of Berth would
// authorise one path while Berth acted on another (`/v2/a/../b/blobs/uploads/` uploads to b).
const NON_CANONICAL = /(?:^|\/)(?:\.|%2e){1,2}(?:\/|$)|\\|\/\//i;

/** The error a request line earns before routing, or null. `target` is origin-form or absolute. */
export function requestLineError(method: string, target: string): RegistryError | null {
  if (UNREPRESENTABLE_METHODS.has(method.toUpperCase())) {
    return new RegistryError("UNSUPPORTED", { method }, { message: `method ${method} is not supported` });
  }
  const path = pathOf(target);
  if (NON_CANONICAL.test(path)) {
    return new RegistryError("NAME_INVALID", { path }, { message: "request path is not canonical (dot segment, backslash or empty segment)" });
  }
  return null;
}

/** The error response for a refused request line, ready to send, or null to go on. */
export function rejectRequestLine(method: string, target: string): Response | null {
  const error = requestLineError(method, target);
  return error && errorResponse(error, method);
}

/** The path of a request target: before "?" or "#", after the scheme and authority if absolute. */
function pathOf(target: string): string {
  let start = 0;
  if (!target.startsWith("/")) {
    const authority = target.indexOf("://");
    if (authority < 0) return target; // "*" (OPTIONS) or garbage: nothing URL parsing would fold
    start = target.indexOf("/", authority + 3);
    if (start < 0) return "";
  }
  let end = target.length;
  for (const stop of ["?", "#"]) {
    const at = target.indexOf(stop, start);
    if (at >= 0 && at < end) end = at;
  }
  return target.slice(start, end);
}
