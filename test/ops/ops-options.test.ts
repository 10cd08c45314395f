/**
 * Operations options without a server: the config rows (log format and level, webhook
 * endpoints) stop a bad value naming it; GET /metrics with a token; GET /readyz when the
 * store never answers; the JSON and text log lines.
 */
import { describe, expect, it } from "vitest";
import { parseArgv, resolveConfig } from "../../src/config/load.ts";
import { registryOptionsFrom } from "../../src/config/registry-options.ts";
import { ConfigError } from "../../src/config/values.ts";
import { createRegistry, MemoryStore, type BlobStore } from "../../src/index.ts";
import { createLogger, formatAccessLine } from "../../src/ops/log.ts";

const config = async (argv: string[], file?: string) =>
  resolveConfig({ flags: parseArgv(["serve", ...argv]).flags, env: () => undefined, file: file === undefined ? undefined : { text: file, name: "berth.yaml" } });

describe("operations options", () => {
  it("--log-format, --log-level: only the known values", async () => {
    expect((await config(["--log-format", "json", "--log-level", "warn"])).log).toEqual({ format: "json", level: "warn" });
    await expect(config(["--log-format", "xml"])).rejects.toThrow(/--log-format: expected one of text, json, got "xml"/);
    await expect(config([], "log:\n  level: loud\n")).rejects.toThrow(/berth.yaml: log.level: expected one of debug, info, warn, error/);
  });

  it("--webhook URL repeats; webhooks.endpoints checks every key", async () => {
    const both = await config(["--webhook", "http://a.test/h", "--webhook", "https://b.test/h"], "webhooks:\n  endpoints:\n    - url: http://c.test/h\n      events: [pull]\n      backoff: 2s\n");
    expect(both.webhooks.urls).toEqual(["http://a.test/h", "https://b.test/h"]);
    const options = await registryOptionsFrom(both, { store: new MemoryStore(), readText: async () => "" });
    expect(options.webhooks!.map((w) => [w.url, w.events, w.backoffMs])).toEqual([
      ["http://a.test/h", ["push", "delete"], 1000],
      ["https://b.test/h", ["push", "delete"], 1000],
      ["http://c.test/h", ["pull"], 2000],
    ]);
    await expect(config(["--webhook", "ftp://x"])).rejects.toThrow(/--webhook: expected an http:\/\/ or https:\/\/ URL/);
    await expect(config([], "webhooks:\n  endpoints:\n    - url: http://c.test/h\n      retries: 3\n")).rejects.toThrow(/webhooks.endpoints\[0\]: unknown key retries/);
    await expect(config([], "webhooks:\n  endpoints:\n    - url: http://c.test/h\n      events: [push, tag]\n")).rejects.toThrow(/unknown event "tag"/);
    await expect(config([], "webhooks:\n  endpoints:\n    - headers: {}\n")).rejects.toThrow(ConfigError);
    const ignoring = await registryOptionsFrom(await config([], "webhooks:\n  endpoints:\n    - url: http://c.test/h\n      ignoredMediaTypes: [application/octet-stream]\n"), { store: new MemoryStore(), readText: async () => "" });
    expect(ignoring.webhooks![0]!.ignoredMediaTypes).toEqual(["application/octet-stream"]);
    await expect(config([], "webhooks:\n  endpoints:\n    - url: http://c.test/h\n      ignoredMediaTypes: [blobs]\n")).rejects.toThrow(/ignoredMediaTypes: "blobs" is not a media type/);
  });

  it("--tls-cert without --tls-key stops the start", async () => {
    await expect(registryOptionsFrom(await config(["--tls-cert", "c.pem"]), { store: new MemoryStore(), readText: async () => "" })).rejects.toThrow(/--tls-cert needs --tls-key/);
  });

  it("--http2 is off by default and without --tls-cert stops the start", async () => {
    expect((await config([])).server.http2).toBe(false);
    expect((await config(["--http2", "--tls-cert", "c.pem", "--tls-key", "k.pem"])).server.http2).toBe(true);
    await expect(registryOptionsFrom(await config(["--http2"]), { store: new MemoryStore(), readText: async () => "" })).rejects.toThrow(/--http2 needs --tls-cert and --tls-key/);
  });
});

describe("operations endpoints, in process", () => {
  it("GET /metrics with metrics.token -> 401 without the bearer token, 200 with it", async () => {
    const registry = createRegistry({ store: new MemoryStore(), metrics: { token: "m-t0ken" } });
    expect((await registry.fetch(new Request("http://r.test/metrics"))).status).toBe(401);
    expect((await registry.fetch(new Request("http://r.test/metrics", { headers: { Authorization: "Bearer wrong" } }))).status).toBe(401);
    expect((await registry.fetch(new Request("http://r.test/metrics", { headers: { Authorization: "Bearer m-t0ken" } }))).status).toBe(200);
  });

  it("GET /metrics with metrics.enabled false -> 404", async () => {
    const registry = createRegistry({ store: new MemoryStore(), metrics: { enabled: false } });
    expect((await registry.fetch(new Request("http://r.test/metrics"))).status).toBe(404);
  });

  it("GET /readyz when the store never answers -> 503 after the timeout", async () => {
    const hanging = new Proxy(new MemoryStore(), { get: (target, key) => (key === "put" ? () => new Promise(() => {}) : Reflect.get(target, key)) }) as BlobStore;
    const registry = createRegistry({ store: hanging, readinessTimeoutMs: 100 });
    const started = performance.now();
    const res = await registry.fetch(new Request("http://r.test/readyz"));
    expect(res.status).toBe(503);
    expect(performance.now() - started).toBeLessThan(2000);
    const body = (await res.json()) as { failed: string[]; checks: { store: { error: string } } };
    expect(body.failed).toEqual(["store"]);
    expect(body.checks.store.error).toBe("no answer within 100 ms");
  });
});

describe("log lines", () => {
  const entry = { requestId: "id-1", client: "10.0.0.1", user: "ann", method: "GET", path: "/v2/a/manifests/v1?x=1", status: 200, bytesIn: 0, bytesOut: 512, ms: 1.26, userAgent: 'say "hi"', aborted: false };

  it("json: one object per line with the access fields", () => {
    expect(JSON.parse(formatAccessLine("json", entry))).toMatchObject({ level: "info", msg: "access", requestId: "id-1", client: "10.0.0.1", user: "ann", status: 200, bytesOut: 512, ms: 1.3, userAgent: 'say "hi"' });
    const lines: string[] = [];
    const logger = createLogger({ format: "json", level: "warn", write: (line) => lines.push(line) });
    logger.info("hidden");
    logger.warn("shown", { key: "value" });
    logger.access(entry); // access lines are info: below warn
    expect(lines.map((line) => JSON.parse(line))).toEqual([expect.objectContaining({ level: "warn", msg: "shown", key: "value" })]);
  });

  it("text: Common Log Format's order, quoted agent, id last", () => {
    expect(formatAccessLine("text", entry)).toMatch(/^\S+Z 10\.0\.0\.1 ann "GET \/v2\/a\/manifests\/v1\?x=1" 200 0 512 1\.3ms "say \\"hi\\"" id=id-1$/);
    expect(formatAccessLine("text", { ...entry, user: undefined, bytesIn: undefined, aborted: true })).toMatch(/ - "GET .* 200 - 512 .* client-disconnected$/);
  });
});
