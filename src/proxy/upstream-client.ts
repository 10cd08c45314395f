/**
 * Talks to one upstream registry as a real client does: a request goes out with what worked
 * before for its scope; on 401 the `WWW-Authenticate` challenge says how to authenticate
 * (Bearer: ask the token realm, anonymously or with the credentials; Basic: send them), and
 * the request is retried once. Tokens are kept per scope until they expire. Credentials and
 * tokens never appear in an error message or a log line.
 */
import { BoundedCache, stringBytes } from "../bounded-cache.ts";
import { RegistryError } from "../errors.ts";
import type { UpstreamOptions } from "./upstreams.ts";

export type FetchFunction = (request: Request) => Promise<Response>;

/** Why an upstream request failed, for metrics: not reached, auth refused, or an error status. */
export type UpstreamErrorReason = "unreachable" | "refused" | "status";

interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** `Bearer realm="https://auth",service="registry",scope="repository:a:pull"`, one challenge. */
export function parseChallenge(header: string | null): Challenge | undefined {
  const match = header?.match(/^\s*(\w+)\s*(.*)$/s);
  if (!match) return undefined;
  const params: Record<string, string> = {};
  for (const [, key, quoted, bare] of match[2]!.matchAll(/(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g)) {
    params[key!.toLowerCase()] = quoted !== undefined ? quoted.replace(/\\(.)/g, "$1") : bare!;
  }
  return { scheme: match[1]!.toLowerCase(), params };
}

export class UpstreamClient {
  /** Authorization header values by scope, with their expiry (ms since epoch). */
  /** Bearer headers by scope until they expire; 1 MiB (registry tokens run to a few KiB). */
  private readonly tokens = new BoundedCache<{ header: string; expires: number }>(1024 * 1024, (scope, token) => stringBytes(scope) + stringBytes(token.header) + 64);
  private basic = false;

  constructor(
    readonly options: UpstreamOptions,
    private readonly fetchUpstream: FetchFunction,
    readonly timeoutMs: number,
    private readonly onError: (upstream: string, reason: UpstreamErrorReason) => void = () => {},
  ) {}

  /** The upstream's response to `path` (e.g. `/v2/library/alpine/manifests/3`), authenticated for `scope`. */
  async request(path: string, init: { method: string; headers?: Record<string, string>; scope: string }): Promise<Response> {
    let response = await this.send(path, init, this.authorizationFor(init.scope));
    if (response.status !== 401) {
      if (!response.ok && response.status !== 404) this.onError(this.options.url, "status");
      return response;
    }
    const challenge = parseChallenge(response.headers.get("www-authenticate"));
    await response.body?.cancel();
    const authorization = await this.answer(challenge, init.scope);
    if (authorization === undefined) throw this.refused("asks for credentials that are not configured");
    response = await this.send(path, init, authorization);
    if (response.status === 401) {
      await response.body?.cancel();
      this.tokens.delete(init.scope);
      throw this.refused("refused the configured credentials");
    }
    // 404 is an answer (unknown here too); anything else not ok is the upstream failing.
    if (!response.ok && response.status !== 404) this.onError(this.options.url, "status");
    return response;
  }

  private authorizationFor(scope: string): string | undefined {
    const token = this.tokens.get(scope);
    if (token && token.expires > Date.now()) return token.header;
    return this.basic ? this.basicHeader() : undefined;
  }

  private async answer(challenge: Challenge | undefined, scope: string): Promise<string | undefined> {
    if (challenge?.scheme === "bearer" && challenge.params.realm) return this.fetchToken(challenge.params, scope);
    if (challenge?.scheme === "basic" && this.options.username !== undefined) {
      this.basic = true;
      return this.basicHeader();
    }
    return undefined;
  }

  /** distribution's token flow (docs/spec/auth/token.md): GET realm?service=&scope=, Basic when configured. */
  private async fetchToken(params: Record<string, string>, scope: string): Promise<string> {
    let realm: URL;
    try {
      realm = new URL(params.realm!);
    } catch {
      throw this.refused("sent a Bearer challenge with an unusable realm");
    }
    if (params.service) realm.searchParams.set("service", params.service);
    realm.searchParams.set("scope", scope);
    const headers: Record<string, string> = {};
    if (this.options.username !== undefined) {
      headers.Authorization = this.basicHeader();
      realm.searchParams.set("account", this.options.username);
    }
    const response = await this.timed(new Request(realm, { headers }), "token server");
    if (!response.ok) {
      await response.body?.cancel();
      throw this.refused(`token server answered ${response.status}`);
    }
    const body = (await response.json().catch(() => ({}))) as { token?: string; access_token?: string; expires_in?: number };
    const token = body.token ?? body.access_token;
    if (!token) throw this.refused("token server sent no token");
    // Spec: expires_in defaults to 60 s; refresh a little early so a token never expires in flight.
    const seconds = typeof body.expires_in === "number" && body.expires_in > 0 ? body.expires_in : 60;
    const header = `Bearer ${token}`;
    this.tokens.set(scope, { header, expires: Date.now() + Math.max(1, seconds - 10) * 1000 });
    return header;
  }

  private basicHeader(): string {
    const bytes = new TextEncoder().encode(`${this.options.username ?? ""}:${this.options.password ?? ""}`);
    return `Basic ${btoa(String.fromCharCode(...bytes))}`;
  }

  private send(path: string, init: { method: string; headers?: Record<string, string> }, authorization: string | undefined): Promise<Response> {
    const headers = new Headers(init.headers);
    if (authorization) headers.set("Authorization", authorization);
    // Redirects (blob GETs to a CDN) are followed; fetch drops Authorization on a cross-origin hop.
    return this.timed(new Request(this.options.url + path, { method: init.method, headers, redirect: "follow" }), "registry");
  }

  /** A fetch whose response headers must arrive within the timeout; the body may then take its time. */
  private async timed(request: Request, what: string): Promise<Response> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    try {
      return await this.fetchUpstream(new Request(request, { signal: controller.signal }));
    } catch (error) {
      const reason = controller.signal.aborted ? `no answer within ${this.timeoutMs / 1000}s` : describeFetchError(error);
      this.onError(this.options.url, "unreachable");
      throw new UpstreamUnavailable(`upstream ${what} ${this.options.url} is unreachable: ${reason}`);
    } finally {
      clearTimeout(timer);
    }
  }

  private refused(why: string): RegistryError {
    this.onError(this.options.url, "refused");
    return new RegistryError("DENIED", { upstream: this.options.url }, { message: `upstream ${this.options.url} ${why}` });
  }
}

/** The upstream could not be asked (refused, reset, timed out): a cached copy may still answer. */
export class UpstreamUnavailable extends RegistryError {
  constructor(message: string) {
    super("UNAVAILABLE", null, { message });
  }
}

function describeFetchError(error: unknown): string {
  // fetch (undici) wraps the socket error in `cause`; node:http throws it as is.
  const failure = error as { code?: string; cause?: { code?: string; message?: string } } | undefined;
  return failure?.cause?.code ?? failure?.code ?? failure?.cause?.message ?? (error instanceof Error ? error.message : String(error));
}
