/**
 * The one route table, and the small pieces every route file shares. A route file adds rows
 * (method, pattern, handler, and the access it needs when that is not derived from the
 * method); handler.ts compiles the rows once into itty-router routes, authorizes each request
 * from its row in the `before` stage, and answers 405 (with `Allow`) from the same rows.
 */
import type { IRequest, RouteEntry } from "itty-router";
import type { Grant } from "./auth/authorizer.ts";
import { parseDigest, type Digest } from "./digest.ts";
import { RegistryError } from "./errors.ts";
import { validateName } from "./reference.ts";

export type Method = "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE";

/** A token scope (distribution's docs/spec/auth/scope.md): `repository:team/app:pull,push`. */
export interface Scope {
  type: string;
  name: string;
  actions: string[];
}

/** What a request needs: scopes it cannot go without, and scopes it uses when granted (a mount's source). */
export interface Access {
  required: Scope[];
  optional: Scope[];
}

/**
 * How a row's access is decided. Omitted: derived from the method, as distribution's
 * appendAccessRecords does. "none": no authorization at all (token endpoint, health).
 * "authenticated": a valid identity or token, no scope (`GET /v2/`). A function: its own scopes.
 */
export type AccessRule = "none" | "authenticated" | ((request: IRequest) => Access);

export type RouteHandler = (request: IRequest) => Response | Promise<Response>;

export interface RouteRow {
  method: Method;
  pattern: string;
  access?: AccessRule;
  handler: RouteHandler;
}

type RowAdder = {
  (pattern: string, handler: RouteHandler): RouteTable;
  (pattern: string, options: { access: AccessRule }, handler: RouteHandler): RouteTable;
};

/** Collects rows in order; the first row whose pattern and method match a request serves it. */
export class RouteTable {
  readonly rows: RouteRow[] = [];
  readonly get = this.adder("GET");
  readonly head = this.adder("HEAD");
  readonly post = this.adder("POST");
  readonly put = this.adder("PUT");
  readonly patch = this.adder("PATCH");
  readonly delete = this.adder("DELETE");

  private adder(method: Method): RowAdder {
    return ((pattern: string, second: RouteHandler | { access: AccessRule }, third?: RouteHandler, ...rest: unknown[]) => {
      const handler = typeof second === "function" ? second : third;
      const access = typeof second === "function" ? undefined : second.access;
      // Fail at startup, not per request: one handler per row, access derived or given.
      if (typeof handler !== "function" || (typeof second === "function" && third !== undefined) || rest.length) {
        throw new Error(`route ${method} ${pattern}: expected (pattern, handler) or (pattern, { access }, handler); access is not a middleware`);
      }
      if (access === undefined && !pattern.includes(":name")) {
        throw new Error(`route ${method} ${pattern}: no :name to derive its access from; give { access: "none" | "authenticated" | (request) => Access }`);
      }
      this.rows.push({ method, pattern, handler, ...(access && { access }) });
      return this;
    }) as RowAdder;
  }
}

/** The repository scope a method needs (distribution: GET/HEAD pull, POST/PUT/PATCH pull+push, DELETE delete). */
export function actionsOf(method: string): string[] {
  if (method === "GET" || method === "HEAD") return ["pull"];
  if (method === "DELETE") return ["delete"];
  return ["pull", "push"];
}

/**
 * The access a request needs by its row. A cross-repository mount (`POST ...?mount=&from=`)
 * also asks pull on `from`; it is optional, because without it the POST is a normal upload.
 */
export function accessOf(row: RouteRow, request: IRequest): Access | "none" | "authenticated" {
  if (typeof row.access === "function") return row.access(request);
  if (row.access) return row.access;
  const name = nameOf(request);
  const access: Access = { required: [{ type: "repository", name, actions: actionsOf(row.method) }], optional: [] };
  const query = request.query as Record<string, string | string[] | undefined> | undefined;
  const from = query?.from;
  if (row.method === "POST" && query?.mount !== undefined && typeof from === "string") {
    try {
      access.optional.push({ type: "repository", name: validateName(decodeParam(from)), actions: ["pull"] });
    } catch {
      // an invalid source name is no mount: the POST falls back to a normal upload
    }
  }
  return access;
}

/** A compiled row: itty-router's regex for its pattern, so matching here and there agree. */
export interface CompiledRow {
  row: RouteRow;
  regex: RegExp;
  entry: RouteEntry;
}

/** The same pattern -> RegExp translation itty-router's Router applies to `router.get(pattern)`. */
export function compileRows(rows: RouteRow[], wrap: (row: RouteRow) => RouteHandler): CompiledRow[] {
  return rows.map((row) => {
    const path = row.pattern.replace(/\/+(\/|$)/g, "$1");
    const regex = RegExp(
      `^${path
        .replace(/(\/?\.?):(\w+)\+/g, "($1(?<$2>[^]+))")
        .replace(/(\/?\.?):(\w+)/g, "($1(?<$2>[^$1/]+?))")
        .replace(/\./g, "\\.")
        .replace(/(\/?)\*/g, "($1.*)?")}/*$`,
    );
    return { row, regex, entry: [row.method, regex, [wrap(row)], path] as unknown as RouteEntry };
  });
}

/** The row serving `method path`; 405 with `Allow` when the path is known but the method is not. */
export function matchRow(rows: CompiledRow[], method: string, path: string): { row: RouteRow; params: Record<string, string> } | null {
  const allowed: string[] = [];
  for (const compiled of rows) {
    const match = compiled.regex.exec(path);
    if (!match) continue;
    if (compiled.row.method === method) return { row: compiled.row, params: { ...match.groups } };
    if (!allowed.includes(compiled.row.method)) allowed.push(compiled.row.method);
  }
  if (allowed.length === 0) return null;
  throw new RegistryError("UNSUPPORTED", null, { message: "method not allowed on this resource", headers: { Allow: allowed.join(", ") } });
}

/** The authorization decided for this request in the before stage. */
export const grantOf = (request: IRequest): Grant => request.grant as Grant;

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

/** With deletes turned off (`--no-delete`), a DELETE is 405 UNSUPPORTED, as distribution's delete.enabled=false. */
export function refuseDeletesWhenOff(ctx: { deletes: boolean }): void {
  if (!ctx.deletes) throw new RegistryError("UNSUPPORTED", null, { message: "deletes are disabled on this registry" });
}

/** Headers of every blob or manifest response that names its content. */
export const contentHeaders = (digest: string, size: number, type: string) => ({
  "Docker-Content-Digest": digest,
  "Content-Length": String(size),
  "Content-Type": type,
});

export function queryInt(url: URL, key: string): number | undefined {
  const text = url.searchParams.get(key);
  if (text === null || text === "") return undefined;
  if (!/^\d{1,9}$/.test(text)) throw new RegistryError("PAGINATION_NUMBER_INVALID", { [key]: text });
  return Number(text);
}

/** What every route file registers on. */
export type RegistryRouter = RouteTable;
