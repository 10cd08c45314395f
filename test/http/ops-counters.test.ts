/**
 * GET /metrics counters of the capabilities beside the HTTP ones, moved by exact amounts:
 * the token endpoint (grants and denials by grant type), auth refusals (401 challenge vs 403
 * DENIED), garbage collection run by the serving process (`serve --gc-interval`, a Worker's
 * Cron slices), and the pull-through cache (hits, misses, stale serves, upstream bytes and
 * errors). Counters are per process: every test needs one process answering.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTarget, describeTargets, targetKinds, useTarget, type Target } from "../targets/index.ts";
import { parsePrometheusText, valueOf } from "../ops/prometheus-text.ts";
import { pushLayers } from "./gc-helpers.ts";
import { basicAuth, bodyBytes, expectError, pushImage, randomBytes, uniqueName } from "./helpers.ts";
import { startTestUpstream, type TestUpstream } from "./proxy-upstream.ts";
import { as, basic, EXAMPLE_POLICY, HTPASSWD, postToken } from "./token-helpers.ts";

type Families = ReturnType<typeof parsePrometheusText>;

async function scrape(t: Target): Promise<Families> {
  const res = await t.fetch("/metrics");
  expect(res.status).toBe(200);
  return parsePrometheusText(await res.text());
}

/** How much each metric moved between two scrapes. */
const movedBetween = (before: Families, after: Families) => (metric: string, labels: Record<string, string> = {}) =>
  valueOf(after, metric, labels) - valueOf(before, metric, labels);

describeTargets("GET /metrics: token endpoint and auth refusals", (kind) => {
  const target = useTarget(kind, { auth: { htpasswd: HTPASSWD, policy: EXAMPLE_POLICY } });
  const admin = () => as(target(), basic("alice"));

  it("GET and POST /auth/token grants and denials, 401 challenges and 403 DENIED, each counted once", async () => {
    const before = await scrape(admin());
    const get = (authorization?: string) => target().fetch("/auth/token?service=berth&scope=repository:public/x:pull", authorization ? { headers: { Authorization: authorization } } : {});
    expect((await get()).status).toBe(200);
    expect((await get(basic("alice"))).status).toBe(200);
    await expectError(await get(basicAuth("alice", "wrong")), 401, "UNAUTHORIZED");
    const offline = await postToken(target(), { grant_type: "password", username: "alice", password: "al1ce-pw", access_type: "offline", service: "berth", scope: "" });
    expect(offline.status).toBe(200);
    const { refresh_token } = (await offline.json()) as { refresh_token: string };
    expect((await postToken(target(), { grant_type: "password", username: "alice", password: "nope" })).status).toBe(401);
    expect((await postToken(target(), { grant_type: "refresh_token", refresh_token, service: "berth", scope: "" })).status).toBe(200);
    expect((await postToken(target(), { grant_type: "refresh_token", refresh_token: "not.a.token" })).status).toBe(401);
    expect((await postToken(target(), { grant_type: "client_credentials" })).status).toBe(400);
    // Refused by the before stage: no credentials (a challenge), a known user the policy refuses.
    await expectError(await target().fetch("/v2/"), 401, "UNAUTHORIZED");
    await expectError(await as(target(), basic("carol")).fetch(`/v2/team/${uniqueName()}/blobs/uploads/`, { method: "POST" }), 403, "DENIED");
    const moved = movedBetween(before, await scrape(admin()));

    const token = (grant_type: string, outcome: string) => moved("berth_token_requests_total", { grant_type, outcome });
    expect(token("anonymous", "granted")).toBe(1);
    expect(token("basic", "granted")).toBe(1);
    expect(token("basic", "denied")).toBe(1);
    expect(token("password", "granted")).toBe(1);
    expect(token("password", "denied")).toBe(1);
    expect(token("refresh_token", "granted")).toBe(1);
    expect(token("refresh_token", "denied")).toBe(1);
    expect(token("unknown", "invalid")).toBe(1);
    expect(moved("berth_auth_refused_total", { reason: "challenge" })).toBe(1);
    expect(moved("berth_auth_refused_total", { reason: "denied" })).toBe(1);
  });
}, ["htpasswd", "countsAll"]);

describeTargets("GET /metrics: garbage collection in the serving process", (kind) => {
  // In-process and Node/Deno: the `serve --gc-interval` schedule; Workers: the Cron slices (target.lifecycle).
  const scheduled = kind !== "worker";
  const target = useTarget(kind, { lifecycle: scheduled ? { interval: "1s", grace: "0s" } : { grace: "0s" } });

  it("a collection removing one image: runs started and completed, blobs deleted and bytes freed by exactly that image", async () => {
    const t = target();
    const name = uniqueName("gcmetrics");
    const keep = await pushLayers(t, name, [randomBytes(700)], "keep");
    const gone = await pushLayers(t, name, [randomBytes(900)], "gone");
    const first = await scrape(t);
    const deleted = await t.fetch(`/v2/${name}/manifests/${gone.digest}`, { method: "DELETE" });
    expect(deleted.status).toBe(202);
    const completed = (families: Families) => valueOf(families, "berth_gc_runs_total", { outcome: "completed" });
    const freedBytes = gone.manifest.length + gone.config.size + gone.layers[0]!.size;
    if (!scheduled) await t.lifecycle("gc");
    else {
      // Wait for the run that removes the image, then one more whole run that finds nothing.
      const deadline = Date.now() + 30_000;
      let seen = await scrape(t);
      while (valueOf(seen, "berth_gc_bytes_freed_total") - valueOf(first, "berth_gc_bytes_freed_total") < freedBytes && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        seen = await scrape(t);
      }
      const runs = completed(seen);
      while (completed(await scrape(t)) < runs + 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const after = await scrape(t);
    const moved = movedBetween(first, after);
    expect(moved("berth_gc_runs_total", { outcome: "completed" })).toBeGreaterThanOrEqual(scheduled ? 2 : 1);
    if (!scheduled) expect(moved("berth_gc_runs_total", { outcome: "started" })).toBe(1);
    // A run in progress when a scrape was taken has started but not completed.
    expect(valueOf(after, "berth_gc_runs_total", { outcome: "started" }) - valueOf(after, "berth_gc_runs_total", { outcome: "completed" })).toBeLessThanOrEqual(1);
    // The image's manifest, config and layer blobs; its manifest was deleted by the client, not collected.
    expect(moved("berth_gc_deleted_total", { kind: "blob" })).toBe(3);
    expect(moved("berth_gc_bytes_freed_total")).toBe(freedBytes);
    expect(moved("berth_gc_deleted_total", { kind: "manifest" })).toBe(0);
    expect(moved("berth_gc_runs_total", { outcome: "failed" })).toBe(0);
    expect((await t.fetch(`/v2/${name}/manifests/${keep.digest}`, { method: "HEAD" })).status).toBe(200);
  }, 60_000);
}, ["gc", "countsAll"]);

// Its own upstream and cache per target kind: counts are exact only with nothing else pulling.
for (const kind of targetKinds().filter((k) => k === "in-process" || k === "node" || k === "deno" || k === "worker")) {
  describe(`GET /metrics: pull-through cache [${kind}]`, () => {
    let up: TestUpstream;
    let cache: Target;
    beforeAll(async () => {
      up = await startTestUpstream();
      cache = await createTarget(kind, { upstreams: [`up=${up.url}`], upstreamTagTtlSeconds: 1 });
    }, 90_000);
    afterAll(async () => {
      await cache?.close();
      await up?.close();
    });

    it("misses, hits, stale serves, upstream bytes and upstream errors move by exactly what the pulls did", async () => {
      const name = uniqueName("cachemetrics");
      const image = await pushImage(up.direct, name, "v1");
      const before = await scrape(cache);
      const pull = async (path: string) => {
        const res = await cache.fetch(`/v2/up/${name}/${path}`);
        expect(res.status).toBe(200);
        await bodyBytes(res);
        return res.headers.get("x-berth-cache");
      };
      expect(await pull("manifests/v1")).toBe("miss");
      expect(await pull(`blobs/${image.layers[0]!.digest}`)).toBe("miss");
      expect(await pull(`blobs/${image.layers[0]!.digest}`)).toBe("hit");
      expect(await pull(`manifests/${image.digest}`)).toBe("hit");
      await new Promise((resolve) => setTimeout(resolve, 1100)); // past the tag TTL
      up.failWith = 503;
      expect(await pull("manifests/v1")).toBe("stale");
      up.failWith = undefined;
      const moved = movedBetween(before, await scrape(cache));
      expect(moved("berth_proxy_cache_requests_total", { result: "miss" })).toBe(2);
      expect(moved("berth_proxy_cache_requests_total", { result: "hit" })).toBe(2);
      expect(moved("berth_proxy_cache_requests_total", { result: "stale" })).toBe(1);
      expect(moved("berth_proxy_upstream_bytes_total")).toBe(image.size + image.layers[0]!.size);
      // The revalidating HEAD answered 503: one failed upstream request.
      expect(moved("berth_proxy_upstream_errors_total", { upstream: up.url, reason: "status" })).toBe(1);
      expect(moved("berth_proxy_upstream_errors_total", { upstream: up.url, reason: "unreachable" })).toBe(0);
    });
  });
}
