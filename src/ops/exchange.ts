/**
 * Around every request: a request id (sent back as X-Request-Id), the client address, the
 * user auth found, and once the response is out, one access line and the HTTP metrics. The
 * runtime shim says what only it can know (peer address, bytes sent, whether the client
 * went away) through ExchangeInfo; without one (in-process, Workers) the response's own
 * Content-Length stands in and the request ends when its response is returned.
 */
import type { IRequest } from "itty-router";
import type { Logger } from "./log.ts";
import { handlerOf, recordExchange, type RegistryMetrics } from "./registry-metrics.ts";

export interface ExchangeOutcome {
  bytesIn?: number;
  bytesOut?: number;
  /** The client went away before the whole response was sent. */
  aborted: boolean;
}

/** What a runtime tells the core about one request. Every field is optional. */
export interface ExchangeInfo {
  /** The peer of the connection. */
  clientAddress?: string;
  /**
   * Asked when an error escapes a route: true when the client has disconnected (the runtime
   * may tell from its connection, or from the error, e.g. Deno's BadResource on a body read).
   */
  clientGone?: (error: unknown) => boolean;
  /** Settles when the response has been sent or abandoned. */
  done?: Promise<ExchangeOutcome>;
  /**
   * Set by a shim that writes responses itself and reads `bytesBeside` (the Node adapter):
   * then a small body may come beside a bodiless Response instead of inside it
   * (src/bytes-response.ts). A wrapper that makes new Responses from the registry's must not
   * pass it on.
   */
  writesBytes?: boolean;
}

interface RequestState {
  id: string;
  info: ExchangeInfo;
  /** An error escaped a route because the client was gone: the outcome is 499, not the error. */
  gone?: boolean;
}

// The state rides on the request under a symbol, not in a WeakMap keyed by it. V8's scavenger
// keeps a WeakMap's values alive while their entries exist, so every request's state (and what
// its ExchangeInfo closes over: the connection's request and response) outlived the next young
// collection; V8 then pretenured the state's allocation site, and old-space garbage held whole
// requests until a full collection. With the WeakMap, Node promoted ~3 KB per manifest GET and
// ran a mark-compact every ~0.7 s under load (docs/design.md, "Per-request state").
const STATE = Symbol("berth.exchange");
type Observed = Request & { [STATE]?: RequestState };
const stateOf = (request: Request): RequestState | undefined => (request as Observed)[STATE];

/** Who auth found (the before stage leaves its Grant on the request): the name only. */
const userOf = (request: Request): string | undefined => (request as unknown as IRequest).grant?.user ?? undefined;

export const requestIdOf = (request: Request): string | undefined => stateOf(request)?.id;

/** True when the client of `request` has gone away; marks the request's outcome 499. */
export function clientGone(request: Request, error: unknown): boolean {
  const state = stateOf(request);
  if (!state?.info.clientGone?.(error)) return false;
  state.gone = true;
  return true;
}

export interface ObserveOptions {
  logger: Logger;
  metrics: RegistryMetrics;
  accessLog: boolean;
  trustProxy: boolean;
}

/** The details of a request that webhooks and logs name. */
export function requestFacts(request: Request, trustProxy: boolean) {
  const state = stateOf(request);
  const forwarded = trustProxy ? request.headers.get("x-forwarded-for")?.split(",")[0]?.trim() : undefined;
  return {
    id: state?.id,
    addr: forwarded || state?.info.clientAddress,
    user: userOf(request),
    userAgent: request.headers.get("user-agent") ?? undefined,
  };
}

export function observe(options: ObserveOptions, route: (request: Request) => Promise<Response>) {
  const { logger, metrics } = options;
  return async (request: Request, info: ExchangeInfo = {}): Promise<Response> => {
    const started = performance.now();
    const state: RequestState = { id: crypto.randomUUID(), info };
    (request as Observed)[STATE] = state;
    // Read now: Deno's server drops a request's headers once its response is sent.
    const { method } = request;
    // No Content-Length and no Transfer-Encoding: HTTP/1.1 says there is no body.
    const declared = Number(request.headers.get("content-length") ?? (request.headers.has("transfer-encoding") ? NaN : 0));
    const facts = options.accessLog ? { url: new URL(request.url), ...requestFacts(request, options.trustProxy) } : undefined;
    metrics.inFlight.inc();
    let response: Response;
    try {
      response = await route(request);
      response.headers.set("X-Request-Id", state.id);
    } catch (error) {
      metrics.inFlight.dec();
      throw error;
    }
    const length = Number(response.headers.get("content-length") ?? NaN);
    const finish = (outcome: ExchangeOutcome) => {
      metrics.inFlight.dec();
      const bytesOut = outcome.bytesOut ?? (method === "HEAD" || !Number.isInteger(length) ? undefined : length);
      const aborted = outcome.aborted || state.gone === true;
      // A declared length is not what arrived when the client left midway.
      const bytesIn = outcome.bytesIn ?? (Number.isInteger(declared) && !aborted ? declared : undefined);
      const status = state.gone ? 499 : response.status;
      const ms = performance.now() - started;
      const handler = handlerOf((request as unknown as IRequest).route);
      recordExchange(metrics, { handler, method, status, seconds: ms / 1000, bytesIn, bytesOut, aborted });
      if (!facts) return;
      const path = facts.url.pathname + facts.url.search;
      logger.access({ requestId: state.id, client: facts.addr, user: userOf(request), method, path, status, bytesIn, bytesOut, ms, userAgent: facts.userAgent, aborted });
    };
    const settle = (outcome: ExchangeOutcome) => {
      try {
        finish(outcome);
      } catch (error) {
        logger.error("request accounting failed", { requestId: state.id, error: String(error) });
      }
    };
    if (info.done) info.done.then(settle, () => settle({ aborted: true }));
    else settle({ aborted: false });
    return response;
  };
}
