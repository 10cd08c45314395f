/**
 * Measures, in real workerd (Miniflare, local R2), what the Cloudflare runtime's design rests
 * on: hash speed (portable vs node:crypto vs DigestStream), R2 write speed by part size,
 * and the cost of re-hashing from R2. Run: npx tsx test/workers/measure.ts [MiB]
 * Local R2 is a simulator on disk: compare rows with each other, not with production.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startWorker } from "./bundle.ts";

const mib = Number(process.argv[2] ?? 64);
const worker = await startWorker("test/workers/measure-worker.ts");

async function time(path: string, runs = 3): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const res = await fetch(worker.url + path);
    await res.text();
    if (!res.ok) throw new Error(`${path}: ${res.status}`);
    times.push(performance.now() - started);
  }
  return Math.min(...times);
}

try {
  const base = await time("/noop");
  const gen = await time(`/generate?mib=${mib}`);
  const rows: Array<[string, number]> = [];
  const row = async (label: string, path: string, minus = gen, runs = 3) => {
    const ms = (await time(path, runs)) - minus;
    rows.push([label, ms]);
  };
  await row("sha256 portable (@noble/hashes)", `/hash/portable?mib=${mib}`, base);
  await row("sha256 node:crypto (nodejs_compat)", `/hash/node-crypto?mib=${mib}`, base);
  await row("sha256 crypto.DigestStream", `/hash/digest-stream?mib=${mib}`, base);
  await row("R2 put, known length (FixedLengthStream)", `/r2/put-known?mib=${mib}`);
  for (const part of [5, 8, 16, 32]) await row(`R2 put, unknown length, ${part} MiB parts`, `/r2/put-parts?mib=${mib}&part=${part}`);
  await row("R2 get (read only)", `/r2/read`, base);
  await row("R2 get + sha256 node:crypto (re-hash)", `/r2/read-and-hash`, base);
  await row(`R2 get piped into R2 put (copy floor)`, `/r2/copy-direct`, base, 1);
  console.log("chunks in a 64 MiB R2 get:", await (await fetch(worker.url + "/r2/chunks")).text());
  await row(`R2 concat 2 objects (${2 * mib} MiB copied)`, `/r2/concat?mib=${mib}`, base, 1);
  console.log(`${mib} MiB, best of 3, generation (${gen.toFixed(0)} ms) subtracted where it applies`);
  for (const [label, ms] of rows) {
    const size = label.startsWith("R2 concat") ? 2 * mib : mib;
    console.log(`${label.padEnd(44)} ${ms.toFixed(0).padStart(7)} ms  ${((size / ms) * 1000).toFixed(0).padStart(6)} MiB/s`);
  }
} finally {
  await worker.close();
}

// End to end on the registry Worker: a docker-style upload (one chunked PATCH) finished by a
// PUT on the isolate that hashed it as it streamed; then an upload whose second PATCH lands
// on a fresh isolate, which cannot continue the hash, so the PUT re-hashes the parts from R2.
const persist = await mkdtemp(join(tmpdir(), "berth-measure-"));
try {
  const lines: string[] = [];
  for (const restart of [false, true]) {
    const data = new Uint8Array(randomBytes(mib * 1024 * 1024)); // fresh bytes: the blob must not exist yet
    const digest = `sha256:${createHash("sha256").update(data).digest("hex")}`;
    let registry = await startWorker("runtimes/cloudflare/worker.ts", {}, persist);
    const name = `measure/${restart ? "rehash" : "live"}`;
    const started = await fetch(`${registry.url}/v2/${name}/blobs/uploads/`, { method: "POST" });
    const split = restart ? data.byteLength / 2 : data.byteLength;
    let at = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (at >= split) return controller.close();
        controller.enqueue(data.subarray(at, (at = Math.min(split, at + 65_537))));
      },
    });
    let t = performance.now();
    let patched = await fetch(registry.url + started.headers.get("location"), { method: "PATCH", body, duplex: "half" } as RequestInit);
    if (patched.status !== 202) throw new Error(`PATCH ${patched.status}`);
    if (restart) {
      await registry.close();
      registry = await startWorker("runtimes/cloudflare/worker.ts", {}, persist);
      patched = await fetch(registry.url + patched.headers.get("location"), { method: "PATCH", body: data.subarray(split) });
      if (patched.status !== 202) throw new Error(`PATCH ${patched.status}`);
    }
    const patchMs = performance.now() - t;
    t = performance.now();
    const put = await fetch(`${registry.url}${patched.headers.get("location")}?digest=${digest}`, { method: "PUT" });
    if (put.status !== 201) throw new Error(`PUT ${put.status}: ${await put.text()}`);
    const what = restart ? "2 PATCHes, 2nd on a fresh isolate: PUT re-hashes from R2, then copies" : "1 chunked PATCH: PUT has the live hash, copies only";
    lines.push(`${mib} MiB, ${what}: PATCH ${patchMs.toFixed(0)} ms, PUT ${(performance.now() - t).toFixed(0)} ms`);
    await registry.close();
  }
  console.log(lines.join("\n"));
} finally {
  await rm(persist, { recursive: true, force: true });
}
