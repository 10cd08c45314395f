/**
 * Webhooks on the real servers: a receiver gets exactly one event per manifest push and
 * delete, in order, in distribution's envelope, signed when a secret is set; one per blob
 * push, mount, pull and delete, with the blob media type; pulls only when asked; a receiver failing twice gets the event on the third attempt; a receiver that never
 * answers does not slow pushes down, and its bounded queue drops with a warning.
 */
import { createHmac } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { targetKinds, type Target } from "../targets/index.ts";
import { startWorker } from "../workers/bundle.ts";
import { MT, pushBlobInOnePatch, pushImage, randomBytes, sha256, uniqueName } from "../http/helpers.ts";
import { startProcessServer, until } from "./process-server.ts";
import { startReceiver, type Receiver } from "./webhook-receiver.ts";

const SECRET = "hook-s3cret";
const noLifecycle = () => Promise.reject(new Error("gc/du are not part of the webhook tests"));

/** A server of `kind` configured by `yaml`, as a Target plus its output. */
async function startConfigured(kind: string, workDir: string, yaml: string): Promise<Target & { output: () => string[] }> {
  if (kind === "worker") {
    const worker = await startWorker("runtimes/cloudflare/worker.ts", { BERTH_CONFIG: yaml });
    return { name: kind, baseUrl: worker.url, fetch: (path, init) => fetch(worker.url + path, { redirect: "manual", ...init }), close: () => worker.close(), lifecycle: noLifecycle, output: () => [] };
  }
  const config = join(workDir, "berth.yaml");
  await mkdir(workDir, { recursive: true });
  await writeFile(config, yaml);
  const server = await startProcessServer(kind as "node" | "deno", workDir, ["--config", config], { readable: [config] });
  return { name: kind, baseUrl: server.url, fetch: (path, init) => fetch(server.url + path, { redirect: "manual", ...init }), close: () => server.stop(), lifecycle: noLifecycle, output: server.output };
}

const events = (receiver: Receiver) => receiver.accepted().map((d) => JSON.parse(d.body) as { events: Array<Record<string, any>> });

// One process per server (--workers would send each event from the worker that took the request).
for (const kind of targetKinds().filter((k) => k === "node" || k === "deno" || k === "worker")) {
  describe(`webhooks [${kind}]`, () => {
    let workDir: string;
    beforeAll(async () => {
      workDir = await mkdtemp(join(tmpdir(), "berth-hooks-"));
    });
    afterAll(() => rm(workDir, { recursive: true, force: true }));

    it("PUT and DELETE /v2/<name>/manifests/<ref> -> exactly one signed event each, in order; no pull event unless asked", async () => {
      const receiver = await startReceiver();
      // Manifest events only here (blob events have their own test below).
      const target = await startConfigured(kind, join(workDir, "order"), `webhooks:\n  endpoints:\n    - url: ${receiver.url}\n      secret: ${SECRET}\n      headers: { X-Team: registry }\n      ignoredMediaTypes: [application/octet-stream]\n`);
      try {
        const name = uniqueName("hooks");
        const first = await pushImage(target, name, "v1");
        const second = await pushImage(target, name, "v2");
        const pulled = await target.fetch(`/v2/${name}/manifests/v1`);
        expect(pulled.status).toBe(200);
        await pulled.arrayBuffer();
        const deleted = await target.fetch(`/v2/${name}/manifests/${first.digest}`, { method: "DELETE" });
        expect(deleted.status).toBe(202);
        await until(() => receiver.accepted().length >= 3);
        await new Promise((r) => setTimeout(r, 300)); // nothing more arrives
        expect(receiver.deliveries.map((d) => d.status)).toEqual([200, 200, 200]);
        const got = events(receiver);
        expect(got.map((e) => e.events.length)).toEqual([1, 1, 1]);
        expect(got.map((e) => [e.events[0]!.action, e.events[0]!.target.digest])).toEqual([["push", first.digest], ["push", second.digest], ["delete", first.digest]]);
        const push = got[0]!.events[0]!;
        expect(push.target).toMatchObject({ mediaType: MT.ociManifest, digest: first.digest, size: first.size, length: first.size, repository: name, tag: "v1" });
        expect(push.target.url).toBe(`${target.baseUrl}/v2/${name}/manifests/${first.digest}`);
        expect(push.request).toMatchObject({ method: "PUT", host: new URL(target.baseUrl!).host });
        expect(push.request.id).toMatch(/^[0-9a-f-]{36}$/);
        expect(push.id).toMatch(/^[0-9a-f-]{36}$/);
        expect(Date.parse(push.timestamp)).toBeGreaterThan(Date.now() - 60_000);
        expect(push.source.instanceID).toMatch(/^[0-9a-f-]{36}$/);
        for (const delivery of receiver.accepted()) {
          expect(delivery.headers["content-type"]).toBe("application/vnd.docker.distribution.events.v1+json");
          expect(delivery.headers["x-team"]).toBe("registry");
          expect(delivery.headers["x-berth-signature"]).toBe(`sha256=${createHmac("sha256", SECRET).update(delivery.body).digest("hex")}`);
        }
      } finally {
        await target.close();
        await receiver.close();
      }
    }, 90_000);

    it("blob events: push on upload completion (monolithic and chunked), mount from another repository, pull when asked, delete; one each, in order", async () => {
      const receiver = await startReceiver();
      const target = await startConfigured(kind, join(workDir, "blobs"), `webhooks:\n  endpoints:\n    - url: ${receiver.url}\n      events: [push, pull, delete]\n      ignoredMediaTypes: [application/vnd.oci.image.manifest.v1+json]\n`);
      try {
        const name = uniqueName("blobhooks");
        const other = uniqueName("blobhooks-to");
        const image = await pushImage(target, name, "v1"); // config, then the layer: two pushes
        const chunked = randomBytes(300);
        await pushBlobInOnePatch(target, name, chunked);
        const layer = image.layers[0]!;
        const mounted = await target.fetch(`/v2/${other}/blobs/uploads/?mount=${layer.digest}&from=${name}`, { method: "POST" });
        expect(mounted.status).toBe(201);
        const pulled = await target.fetch(`/v2/${other}/blobs/${layer.digest}`);
        expect(pulled.status).toBe(200);
        await pulled.arrayBuffer();
        expect((await target.fetch(`/v2/${other}/blobs/${layer.digest}`, { method: "HEAD" })).status).toBe(200); // HEAD is no pull
        const deleted = await target.fetch(`/v2/${other}/blobs/${layer.digest}`, { method: "DELETE" });
        expect(deleted.status).toBe(202);
        await until(() => receiver.accepted().length >= 6);
        await new Promise((r) => setTimeout(r, 300)); // nothing more arrives
        const got = events(receiver).map((e) => {
          expect(e.events.length).toBe(1);
          return e.events[0]!;
        });
        const chunkedDigest = sha256(chunked);
        expect(got.map((e) => [e.action, e.target.repository, e.target.digest])).toEqual([
          ["push", name, image.config.digest],
          ["push", name, layer.digest],
          ["push", name, chunkedDigest],
          ["mount", other, layer.digest],
          ["pull", other, layer.digest],
          ["delete", other, layer.digest],
        ]);
        const sizes = [image.config.size, layer.size, chunked.byteLength, layer.size, layer.size, layer.size];
        got.forEach((e, i) => {
          expect(e.target).toMatchObject({ mediaType: "application/octet-stream", size: sizes[i], length: sizes[i] });
          expect(e.target.url).toBe(`${target.baseUrl}/v2/${e.target.repository}/blobs/${e.target.digest}`);
          expect(e.target.tag).toBeUndefined();
          expect(e.request.id).toMatch(/^[0-9a-f-]{36}$/);
        });
        expect(got.map((e) => e.request.method)).toEqual(["PUT", "PUT", "PUT", "POST", "GET", "DELETE"]);
        expect(got[3]!.target.fromRepository).toBe(name);
        expect(got.filter((e) => e.target.fromRepository !== undefined).length).toBe(1);
      } finally {
        await target.close();
        await receiver.close();
      }
    }, 90_000);

    it("a receiver that fails twice gets the event on the third attempt, once", async () => {
      const receiver = await startReceiver({ failFirst: 2 });
      const target = await startConfigured(kind, join(workDir, "retry"), `webhooks:\n  endpoints:\n    - url: ${receiver.url}\n      events: [push, pull]\n      ignoredMediaTypes: [application/octet-stream]\n      backoff: 50ms\n      attempts: 4\n`);
      try {
        const name = uniqueName("retry");
        const image = await pushImage(target, name, "v1");
        await until(() => receiver.accepted().length >= 1);
        await new Promise((r) => setTimeout(r, 300));
        expect(receiver.deliveries.map((d) => d.status)).toEqual([500, 500, 200]);
        expect(new Set(receiver.deliveries.map((d) => d.body)).size).toBe(1); // the same event, retried
        expect(events(receiver)[0]!.events[0]).toMatchObject({ action: "push", target: { digest: image.digest } });
        const pulled = await target.fetch(`/v2/${name}/manifests/v1`);
        await pulled.arrayBuffer();
        await until(() => receiver.accepted().length >= 2);
        expect(events(receiver)[1]!.events[0]).toMatchObject({ action: "pull", target: { digest: image.digest, tag: "v1" }, request: { method: "GET" } });
      } finally {
        await target.close();
        await receiver.close();
      }
    }, 90_000);

    it("a receiver that never answers does not slow pushes; its full queue drops with a warning", async () => {
      const receiver = await startReceiver({ hang: true });
      const dead = await startConfigured(kind, join(workDir, "dead"), `webhooks:\n  endpoints:\n    - url: ${receiver.url}\n      timeout: 30s\n      queueSize: 3\n`);
      const plain = await startConfigured(kind, join(workDir, "plain"), "webhooks:\n  endpoints: []\n");
      try {
        const name = uniqueName("dead");
        await pushImage(dead, name, "warm");
        await pushImage(plain, name, "warm");
        const times = { dead: [] as number[], plain: [] as number[] };
        for (let i = 0; i < 8; i++) {
          for (const [label, target] of [["dead", dead], ["plain", plain]] as const) {
            const started = performance.now();
            await pushImage(target, name, `t${i}`);
            times[label].push(performance.now() - started);
          }
        }
        const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
        // A push waiting for a delivery would take the 30 s timeout; the margin is for a busy
        // shared machine (load ~14 on 2 cores when this was written), not for any waiting.
        expect(median(times.dead)).toBeLessThan(median(times.plain) * 2 + 250);
        if (kind !== "worker") {
          await until(() => dead.output().some((line) => line.includes("webhook queue full")));
          expect(dead.output().some((line) => line.includes("webhook queue full"))).toBe(true);
        }
      } finally {
        await dead.close();
        await plain.close();
        await receiver.close();
      }
    }, 120_000);
  });
}
