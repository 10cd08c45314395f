/**
 * The OCI error-code table (distribution-spec "Error Codes", plus the codes distribution
 * documents beside them: UNKNOWN, UNAVAILABLE, UNSUPPORTED, TOOMANYREQUESTS, RANGE_INVALID,
 * PAGINATION_NUMBER_INVALID), the typed error every layer throws, and the one serializer
 * that turns it into `{"errors":[{code,message,detail}]}`. Runtime shims answer their own
 * errors through `errorResponse` too (exported for them).
 */

/** Sent on every response, errors included (clients check it on /v2/). */
export const API_VERSION = "registry/2.0";

export const ERROR_CODES = {
  BLOB_UNKNOWN: { status: 404, message: "blob unknown to registry" },
  BLOB_UPLOAD_INVALID: { status: 400, message: "blob upload invalid" },
  BLOB_UPLOAD_UNKNOWN: { status: 404, message: "blob upload unknown to registry" },
  DIGEST_INVALID: { status: 400, message: "provided digest did not match uploaded content" },
  MANIFEST_BLOB_UNKNOWN: { status: 400, message: "manifest references a manifest or blob unknown to registry" },
  MANIFEST_INVALID: { status: 400, message: "manifest invalid" },
  MANIFEST_UNKNOWN: { status: 404, message: "manifest unknown to registry" },
  NAME_INVALID: { status: 400, message: "invalid repository name" },
  NAME_UNKNOWN: { status: 404, message: "repository name not known to registry" },
  SIZE_INVALID: { status: 400, message: "provided length did not match content length" },
  TAG_INVALID: { status: 400, message: "invalid tag" },
  UNAUTHORIZED: { status: 401, message: "authentication required" },
  DENIED: { status: 403, message: "requested access to the resource is denied" },
  UNSUPPORTED: { status: 405, message: "the operation is unsupported" },
  TOOMANYREQUESTS: { status: 429, message: "too many requests" },
  // distribution's errcode/v2 extras (registry/api/errcode, registry/api/v2/errors.go).
  UNKNOWN: { status: 500, message: "unknown error" },
  UNAVAILABLE: { status: 503, message: "service unavailable" },
  RANGE_INVALID: { status: 416, message: "invalid content range" },
  PAGINATION_NUMBER_INVALID: { status: 400, message: "invalid number of results requested" },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class RegistryError extends Error {
  readonly status: number;
  /** Extra headers for the error response (Range on 416, WWW-Authenticate on 401). */
  readonly headers: Record<string, string>;

  constructor(
    readonly code: ErrorCode,
    readonly detail?: unknown,
    options: { status?: number; message?: string; headers?: Record<string, string> } = {},
  ) {
    super(options.message ?? ERROR_CODES[code].message);
    this.name = "RegistryError";
    this.status = options.status ?? ERROR_CODES[code].status;
    this.headers = options.headers ?? {};
  }
}

/** The one place an error becomes a response. Unknown errors are 500 without internals. */
export function errorResponse(error: unknown, method = "GET", report: (error: unknown) => void = (e) => console.error("berth: unexpected error", e)): Response {
  const known = error instanceof RegistryError;
  if (!known) report(error);
  const registryError = known ? error : new RegistryError("UNKNOWN", null, { message: "internal error" });
  const body = JSON.stringify({
    errors: [{ code: registryError.code, message: registryError.message, detail: registryError.detail ?? null }],
  });
  const headers = new Headers({ "Content-Type": "application/json; charset=utf-8", "Docker-Distribution-API-Version": API_VERSION, ...registryError.headers });
  headers.set("Content-Length", String(new TextEncoder().encode(body).byteLength));
  // HEAD responses carry the status and headers of the error but no body.
  return new Response(method === "HEAD" ? null : body, { status: registryError.status, headers });
}
