/**
 * Operations endpoints on every target: GET /healthz, GET /readyz (a store that fails turns
 * it 503 while /healthz stays 200), GET /metrics (strict Prometheus text, counters moving as
 * requests are made, protected once auth is on), and X-Request-Id on every response.
 */
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import bcrypt from "bcryptjs";
import { describe, expect, it } from "vitest";
import { describeTargets, targetKinds, useTarget, type Target } from "../targets/index.ts";
import { startWorker } from "../workers/bundle.ts";
import { parsePrometheusText, valueOf } from "../ops/prometheus-text.ts";
import { basicAuth, pushImage, uniqueName } from "./helpers.ts";

const scrape = async (t: Target, init?: RequestInit) => {
  const res = await t.fetch("/metrics", init);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  return parsePrometheusText(await res.text());
};

describeTargets("operations endpoints", (kind, caps) => {
  const target = useTarget(kind);

  it("GET /healthz -> 200 {status: ok}, no auth asked", async () => {
    const res = await target().fetch("/healthz");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
  });

  it("GET /readyz -> 200 ready after a store write, read and delete", async () => {
    const res = await target().fetch("/readyz");
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; checks: { store: { ok: boolean; ms: number } } };
    expect(body.status).toBe("ready");
    expect(body.checks.store.ok).toBe(true);
    // The probe leaves nothing behind: the catalog stays as it was.
    const catalog = (await (await target().fetch("/v2/_catalog")).json()) as { repositories: string[] };
    expect(catalog.repositories.some((name) => name.startsWith("health"))).toBe(false);
  });

  it("every response carries a fresh X-Request-Id", async () => {
    const ids = await Promise.all([1, 2, 3].map(async () => (await target().fetch("/v2/")).headers.get("x-request-id")));
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(3);
  });

  // Counters are per process: on the s3 pairs requests alternate between two (with --workers the scraped worker sums its own and the others', gathered by the primary).
  it.skipIf(!caps.countsAll)("GET /metrics -> strict Prometheus text; counters move with requests", async () => {
    const before = await scrape(target());
    for (const name of ["registry_http_requests_total", "registry_http_request_duration_seconds", "registry_http_in_flight_requests", "registry_http_request_size_bytes", "registry_http_response_size_bytes", "registry_storage_action_seconds", "berth_bytes_pushed_total", "berth_bytes_pulled_total", "berth_uploads_total"]) {
      expect(before.has(name), name).toBe(true);
    }
    expect(before.get("registry_http_request_duration_seconds")!.type).toBe("histogram");
    const name = uniqueName("metrics");
    const image = await pushImage(target(), name, "v1");
    const pulled = await target().fetch(`/v2/${name}/manifests/v1`);
    expect(pulled.status).toBe(200);
    await pulled.arrayBuffer();
    const after = await scrape(target());

    const moved = (metric: string, labels: Record<string, string> = {}) => valueOf(after, metric, labels) - valueOf(before, metric, labels);
    expect(moved("registry_http_requests_total", { handler: "manifest", code: "201", method: "PUT" })).toBe(1);
    expect(moved("registry_http_requests_total", { handler: "manifest", code: "200", method: "GET" })).toBe(1);
    expect(moved("registry_http_requests_total", { handler: "blob_upload", code: "202", method: "POST" })).toBe(2);
    expect(moved("registry_http_requests_total", { handler: "blob_upload_chunk", code: "201", method: "PUT" })).toBe(2);
    expect(moved("registry_http_requests_total", { handler: "metrics", code: "200", method: "GET" })).toBe(1);
    expect(moved("registry_http_request_duration_seconds_count", { handler: "manifest" })).toBe(2);
    expect(moved("berth_uploads_total", { outcome: "started" })).toBe(2);
    expect(moved("berth_uploads_total", { outcome: "finished" })).toBe(2);
    const blobBytes = image.layers[0]!.size + image.config.size;
    expect(moved("berth_bytes_pushed_total")).toBe(blobBytes + image.size);
    expect(moved("berth_bytes_pulled_total")).toBe(image.size);
    const storage = after.get("registry_storage_action_seconds")!.samples.filter((s) => s.name.endsWith("_count"));
    const driver = storage[0]!.labels.driver;
    expect(kind === "worker" ? driver === "r2" : kind === "in-process" ? driver === "inmemory" : driver === "filesystem").toBe(true);
    expect(moved("registry_storage_action_seconds_count", { driver: driver!, action: "PutContent" })).toBeGreaterThan(0);
    // The scrape itself is in flight while it renders.
    expect(valueOf(after, "registry_http_in_flight_requests")).toBe(1);
  });
});

describeTargets("GET /metrics with auth on", (kind) => {
  const htpasswd = `ops:${bcrypt.hashSync("0ps-pw", 4)}\n`;
  const target = useTarget(kind, { auth: { htpasswd } });

  it("GET /metrics without credentials -> 401; with a user -> 200; /healthz and /readyz need none", async () => {
    const denied = await target().fetch("/metrics");
    expect(denied.status).toBe(401);
    await denied.body?.cancel();
    await scrape(target(), { headers: { Authorization: basicAuth("ops", "0ps-pw") } });
    expect((await target().fetch("/healthz")).status).toBe(200);
    expect((await target().fetch("/readyz")).status).toBe(200);
  });
}, ["htpasswd"]);

// A store that fails: the folder's temp directory replaced by a file (root ignores file
// modes, so chmod would not stop writes here), and a Worker without its R2 bucket.
for (const kind of targetKinds().filter((k) => k === "node" || k === "deno")) {
  describe(`GET /readyz with a failing store [${kind}]`, () => {
    const target = useTarget(kind);
    it("GET /readyz -> 503 naming the store while GET /healthz stays 200, then 200 once it heals", async () => {
      const tmp = join(target().rootDir!, ".tmp");
      await mkdir(target().rootDir!, { recursive: true });
      await rm(tmp, { recursive: true, force: true });
      await writeFile(tmp, "not a folder");
      const res = await target().fetch("/readyz");
      expect(res.status).toBe(503);
      const body = (await res.json()) as { status: string; failed: string[]; checks: { store: { ok: boolean; error: string } } };
      expect(body.status).toBe("not ready");
      expect(body.failed).toEqual(["store"]);
      expect(body.checks.store.ok).toBe(false);
      expect(body.checks.store.error).toMatch(/\S/);
      expect((await target().fetch("/healthz")).status).toBe(200);
      await rm(tmp);
      expect((await target().fetch("/readyz")).status).toBe(200);
    });
  });
}

describe.skipIf(!targetKinds().includes("worker"))("GET /readyz with a failing store [worker]", () => {
  it("a Worker without its bucket: GET /readyz -> 503 naming the store, GET /healthz -> 200", async () => {
    const worker = await startWorker("runtimes/cloudflare/worker.ts", {}, undefined, false);
    try {
      const res = await fetch(`${worker.url}/readyz`);
      expect(res.status).toBe(503);
      expect(((await res.json()) as { failed: string[] }).failed).toEqual(["store"]);
      expect((await fetch(`${worker.url}/healthz`)).status).toBe(200);
    } finally {
      await worker.close();
    }
  }, 60_000);
});

describe.skipIf(!targetKinds().includes("worker"))("a Worker given BERTH_WORKERS [worker]", () => {
  // A Worker has no start-up to stop (runtimes/cloudflare/worker.ts): every request answers the
  // configuration error, and the log says which variable to remove.
  it("BERTH_WORKERS=2 -> every request 500 UNKNOWN, the log naming BERTH_WORKERS", async () => {
    const lines: string[] = [];
    const worker = await startWorker("runtimes/cloudflare/worker.ts", { BERTH_WORKERS: "2" }, undefined, true, (line) => lines.push(line));
    try {
      const res = await fetch(`${worker.url}/v2/`);
      expect(res.status).toBe(500);
      expect(((await res.json()) as { errors: Array<{ code: string }> }).errors[0]!.code).toBe("UNKNOWN");
      for (let i = 0; i < 40 && !lines.some((line) => line.includes("BERTH_WORKERS")); i++) await new Promise((r) => setTimeout(r, 50));
      expect(lines).toContainEqual(expect.stringContaining("berth: configuration: BERTH_WORKERS: on Workers, Cloudflare runs as many isolates as the load needs; remove it"));
    } finally {
      await worker.close();
    }
  }, 60_000);
});
