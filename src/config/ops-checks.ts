/** Checks of the operations options (logs, webhooks, workers): structured values and closed sets. */
import { LOG_LEVELS } from "../ops/log.ts";
import type { WebhookAction, WebhookEndpoint } from "../ops/webhooks.ts";
import { ConfigError, parseDuration, parseList, parseValue } from "./values.ts";

const oneOf = (allowed: readonly string[]) => (value: unknown, source: string) => {
  if (typeof value !== "string" || !allowed.includes(value)) throw new ConfigError(`${source}: expected one of ${allowed.join(", ")}, got ${JSON.stringify(value)}`);
  return value;
};

export const checkLogFormat = oneOf(["text", "json"]);
export const checkLogLevel = oneOf(LOG_LEVELS);

/** `server.workers`: each worker is a whole server process (~55 MiB idle); past 64 is a typo. */
export const MAX_WORKERS = 64;
export function checkWorkers(value: unknown, source: string): number {
  if (typeof value !== "number" || value > MAX_WORKERS) throw new ConfigError(`${source}: expected 0 (one per CPU core) to ${MAX_WORKERS} processes, got ${JSON.stringify(value)}`);
  return value;
}

function checkUrl(value: unknown, source: string): string {
  let url: URL | undefined;
  try {
    url = new URL(String(value));
  } catch {
    // reported below
  }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) throw new ConfigError(`${source}: expected an http:// or https:// URL, got ${JSON.stringify(value)}`);
  return url.href;
}

export const checkWebhookUrls = (value: unknown, source: string) => (value as string[]).map((url) => checkUrl(url, source));

const ACTIONS: WebhookAction[] = ["push", "pull", "delete"];
const ENDPOINT_KEYS = ["url", "headers", "events", "ignoredMediaTypes", "secret", "timeout", "attempts", "backoff", "queueSize"];

/** `webhooks.endpoints`: a list of `{url, headers?, events?, ignoredMediaTypes?, secret?, timeout?, attempts?, backoff?, queueSize?}`. */
export function checkWebhookEndpoints(value: unknown, source: string): WebhookEndpoint[] {
  if (!Array.isArray(value)) throw new ConfigError(`${source}: expected a list of endpoints`);
  return value.map((item, i) => {
    const at = `${source}[${i}]`;
    if (!item || typeof item !== "object" || Array.isArray(item)) throw new ConfigError(`${at}: expected a mapping with a url`);
    const entry = item as Record<string, unknown>;
    const unknown = Object.keys(entry).filter((key) => !ENDPOINT_KEYS.includes(key));
    if (unknown.length) throw new ConfigError(`${at}: unknown key ${unknown.join(", ")} (known: ${ENDPOINT_KEYS.join(", ")})`);
    const headers = entry.headers ?? {};
    if (typeof headers !== "object" || Array.isArray(headers) || Object.values(headers as object).some((v) => typeof v !== "string")) {
      throw new ConfigError(`${at}.headers: expected a mapping of header names to strings`);
    }
    const events = entry.events === undefined ? undefined : parseList(entry.events, `${at}.events`);
    for (const event of events ?? []) if (!ACTIONS.includes(event as WebhookAction)) throw new ConfigError(`${at}.events: unknown event "${event}" (known: ${ACTIONS.join(", ")})`);
    const ignoredMediaTypes = entry.ignoredMediaTypes === undefined ? undefined : parseList(entry.ignoredMediaTypes, `${at}.ignoredMediaTypes`);
    for (const type of ignoredMediaTypes ?? []) if (!/^[\w.+-]+\/[\w.+-]+$/.test(type)) throw new ConfigError(`${at}.ignoredMediaTypes: "${type}" is not a media type`);
    return {
      url: checkUrl(entry.url, `${at}.url`),
      headers: headers as Record<string, string>,
      events: events as WebhookAction[] | undefined,
      ignoredMediaTypes,
      secret: entry.secret === undefined ? undefined : (parseValue("string", entry.secret, `${at}.secret`) as string),
      timeoutMs: entry.timeout === undefined ? undefined : parseDuration(entry.timeout, `${at}.timeout`),
      attempts: entry.attempts === undefined ? undefined : (parseValue("positive", entry.attempts, `${at}.attempts`) as number),
      backoffMs: entry.backoff === undefined ? undefined : parseDuration(entry.backoff, `${at}.backoff`),
      queueSize: entry.queueSize === undefined ? undefined : (parseValue("positive", entry.queueSize, `${at}.queueSize`) as number),
    };
  });
}
