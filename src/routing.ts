/** Small pieces every route file shares: typed params, access checks, common headers. */
import type { IRequest, RouterType } from "itty-router";
import type { Context } from "./context.ts";
import { parseDigest, type Digest } from "./digest.ts";
import { RegistryError } from "./errors.ts";
import type { Action } from "./options.ts";
import { validateName } from "./reference.ts";

/** The repository name of a `/v2/<name>/...` route, validated on the raw path. */
export const nameOf = (request: IRequest): string => validateName(request.params.name ?? "");

/** A digest path parameter, percent-decoded then validated. */
export function digestParam(request: IRequest, param = "digest"): Digest {
  return parseDigest(decodeParam(request.params[param] ?? ""));
}

export function decodeParam(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw; // malformed escapes stay as they are and fail validation
  }
}

/** Route middleware: validate the name, then require `action` on it. */
export const requireAccess = (ctx: Context, action: Action) => async (request: IRequest) => {
  const name = action === "catalog" ? "" : nameOf(request);
  await ctx.checkAccess(request as unknown as Request, { name, action });
};

/** Route middleware: with deletes turned off (`--no-delete`), DELETE is 405 UNSUPPORTED, as distribution's delete.enabled=false. */
export const requireDeletes = (ctx: Context) => () => {
  if (!ctx.deletes) throw new RegistryError("UNSUPPORTED", null, { message: "deletes are disabled on this registry" });
};

/** Headers of every blob or manifest response that names its content. */
export const contentHeaders = (digest: string, size: number, type: string) => ({
  "Docker-Content-Digest": digest,
  "Content-Length": String(size),
  "Content-Type": type,
});

export const unsupported = () => {
  throw new RegistryError("UNSUPPORTED", null, { message: "method not allowed on this resource" });
};

export function queryInt(url: URL, key: string): number | undefined {
  const text = url.searchParams.get(key);
  if (text === null || text === "") return undefined;
  if (!/^\d{1,9}$/.test(text)) throw new RegistryError("PAGINATION_NUMBER_INVALID", { [key]: text });
  return Number(text);
}

/** The router type every route file registers on. */
export type RegistryRouter = RouterType<IRequest, []>;
