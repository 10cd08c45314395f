// end-2, end-3, end-8a (pull-through): GET/HEAD blobs and manifests, GET tags/list of proxied repositories.
// A wrapper in front of each route handler (handler.ts), run after the before stage has
// authorized the request by its row. For a repository outside the proxied namespaces it does
// nothing. For a proxied one it fills the store on a miss (answering a blob miss itself,
// streaming) and then lets the row's handler answer from the store; writes are refused.
import type { IRequest } from "itty-router";
import type { Context } from "../context.ts";
import { isDigestLike, parseDigest } from "../digest.ts";
import { RegistryError } from "../errors.ts";
import { validateName, validateTag } from "../reference.ts";
import { decodeParam, type RouteHandler } from "../routing.ts";
import { serveProxiedBlob } from "./blob-cache.ts";
import { listProxiedTags, prepareProxiedManifest } from "./manifest-cache.ts";
import type { PullThrough } from "./pull-through.ts";

// The name is greedy, as the rows' `:name+`; uploads are matched so they can be refused.
const PROXIED_PATH = /^\/v2\/(.+)\/(?:(blobs\/uploads(?:\/.*)?)|blobs\/([^/]+)|manifests\/([^/]+)|(tags\/list)|referrers\/[^/]+)$/;

export function withPullThrough(ctx: Context, proxy: PullThrough, handler: RouteHandler): RouteHandler {
  return async (request) => (await pullThrough(ctx, proxy, request)) ?? handler(request);
}

async function pullThrough(ctx: Context, proxy: PullThrough, request: IRequest): Promise<Response | undefined> {
  const match = PROXIED_PATH.exec(new URL(request.url).pathname);
  const proxied = match && proxy.match(match[1]!);
  if (!match || !proxied) return undefined;
  const [, rawName, upload, digest, reference, tags] = match;
  const name = validateName(rawName!);
  const raw = request as unknown as Request;
  if (request.method !== "GET" && request.method !== "HEAD") {
    if (!upload && !digest && !reference) return undefined;
    throw new RegistryError("DENIED", { name, upstream: proxied.client.options.url }, {
      message: `${name} is a pull-through cache of ${proxied.client.options.url}: it cannot be pushed to or deleted from; push to a repository outside the proxied namespaces`,
    });
  }
  if (upload) return undefined;
  if (digest !== undefined) return serveProxiedBlob(ctx, proxy, proxied, raw, name, parseDigest(decodeParam(digest)));
  if (reference !== undefined) {
    const text = decodeParam(reference);
    await prepareProxiedManifest(ctx, proxy, proxied, raw, name, isDigestLike(text) ? { digest: parseDigest(text) } : { tag: validateTag(text) });
    return undefined;
  }
  if (tags && request.method === "GET") return listProxiedTags(ctx, proxy, proxied, raw, name);
  return undefined;
}

/** The response header saying where a proxied answer came from; stale answers also carry a Warning. */
export function markCacheStatus(proxy: PullThrough, request: object, response: Response): void {
  const status = proxy.statusOf(request);
  if (!status || response.headers.has("X-Berth-Cache")) return;
  response.headers.set("X-Berth-Cache", status);
  if (status === "stale") response.headers.set("Warning", '110 berth "Response is stale: the upstream is unreachable"');
}
