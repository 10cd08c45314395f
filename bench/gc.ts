/**
 * Garbage collection benchmark (bench/README.md, "Garbage collection"):
 *   1. throughput: blobs examined per second by `collectGarbage` on an FsStore folder of
 *      N blobs (half referenced by manifests, half garbage), a dry run and a real one;
 *   2. cost to pushes: small-image pushes/s of C concurrent clients against `berth serve`
 *      (Node), without and then with `berth gc --grace 0s` running back to back beside it.
 * `npx tsx bench/gc.ts [--quick]`
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { collectGarbage } from "../src/index.ts";
import { FsStore } from "../runtimes/node/fs-store.ts";

const quick = process.argv.includes("--quick");
const BLOBS = quick ? 4_000 : 40_000;
const REPOS = 20;
const PUSH_SECONDS = quick ? 5 : 20;
const CLIENTS = 8;
const BIN = fileURLToPath(new URL("../bin/berth.mjs", import.meta.url));
const sha = (bytes: Uint8Array) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
const enc = new TextEncoder();

/** Write a registry folder directly: BLOBS blobs, half of them layers of one-layer manifests. */
async function populate(root: string): Promise<void> {
  const store = new FsStore(root);
  const put = (key: string, bytes: Uint8Array) => store.put(key, bytes);
  const blobKey = (d: string) => `blobs/sha256/${d.slice(7, 9)}/${d.slice(7)}/data`;
  const config = enc.encode("{}");
  await put(blobKey(sha(config)), config);
  for (let i = 0; i < BLOBS; i++) {
    const bytes = randomBytes(256);
    const digest = sha(bytes);
    const repo = `bench/r${i % REPOS}`;
    await put(blobKey(digest), bytes);
    await put(`repositories/${repo}/_layers/sha256/${digest.slice(7)}/link`, enc.encode(digest));
    if (i < REPOS) await put(`catalog/${repo}/_repo`, new Uint8Array(0));
    if (i % 2) continue; // odd ones: garbage
    const manifest = enc.encode(JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: sha(config), size: 2 }, layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest, size: 256 }] }));
    const m = sha(manifest);
    await put(blobKey(m), manifest);
    await put(`repositories/${repo}/_manifests/revisions/sha256/${m.slice(7)}/link`, enc.encode(JSON.stringify({ mediaType: "application/vnd.oci.image.manifest.v1+json", size: manifest.byteLength })));
  }
}

async function throughput(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), "berth-gc-bench-"));
  try {
    let started = performance.now();
    await populate(root);
    console.log(`populated ${BLOBS} blobs (+${BLOBS / 2} manifests) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    for (const dryRun of [true, false]) {
      started = performance.now();
      const report = await collectGarbage(new FsStore(root), { graceMs: 0, deleteUntagged: false, dryRun, retention: [], uploadExpiryMs: 86_400_000 });
      const seconds = (performance.now() - started) / 1000;
      console.log(`gc${dryRun ? " --dry-run" : ""}: examined ${report.examined} blobs in ${seconds.toFixed(2)} s = ${Math.round(report.examined / seconds)} blobs/s; ${dryRun ? "would remove" : "removed"} ${report.blobs}`);
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

function startServer(root: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [BIN, "serve", "--root", root, "--port", "0", "--quiet"], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    child.stdout!.setEncoding("utf8").on("data", (text: string) => {
      const match = /listening on (http:\/\/\S+)/.exec(text);
      if (match) resolve({ url: match[1]!, child });
    });
    child.once("exit", () => reject(new Error("server exited")));
  });
}

async function pushOnce(url: string, name: string, tag: string): Promise<boolean> {
  const blobs = [enc.encode(JSON.stringify({ n: Math.random() })), randomBytes(4096)];
  for (const bytes of blobs) {
    const start = await fetch(`${url}/v2/${name}/blobs/uploads/`, { method: "POST" });
    await start.body?.cancel();
    const put = await fetch(new URL(`${start.headers.get("location")}${start.headers.get("location")!.includes("?") ? "&" : "?"}digest=${sha(bytes)}`, url), { method: "PUT", body: bytes });
    await put.body?.cancel();
    if (put.status !== 201) return false;
  }
  const manifest = JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: sha(blobs[0]!), size: blobs[0]!.byteLength }, layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: sha(blobs[1]!), size: 4096 }] });
  const res = await fetch(`${url}/v2/${name}/manifests/${tag}`, { method: "PUT", headers: { "Content-Type": "application/vnd.oci.image.manifest.v1+json" }, body: manifest });
  await res.body?.cancel();
  if (res.status === 201 && Math.random() < 0.5) await fetch(`${url}/v2/${name}/manifests/${tag}`, { method: "DELETE" }).then((r) => r.body?.cancel()); // make garbage
  return res.status === 201;
}

async function pushLoad(url: string): Promise<{ ok: number; refused: number }> {
  const until = Date.now() + PUSH_SECONDS * 1000;
  const counts = { ok: 0, refused: 0 };
  await Promise.all(Array.from({ length: CLIENTS }, async (_, c) => {
    for (let i = 0; Date.now() < until; i++) (await pushOnce(url, `load/c${c}`, `t${i}`)) ? counts.ok++ : counts.refused++;
  }));
  return counts;
}

async function pushCost(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), "berth-gc-bench-"));
  const { url, child } = await startServer(root);
  try {
    await pushLoad(url); // warm
    const alone = await pushLoad(url);
    let collecting = true;
    let runs = 0;
    const gc = (async () => {
      while (collecting) {
        await new Promise((resolve) => spawn(process.execPath, [BIN, "gc", "--root", root, "--grace", "0s"], { stdio: "ignore" }).once("exit", resolve));
        runs++;
      }
    })();
    const withGc = await pushLoad(url);
    collecting = false;
    await gc;
    const rate = (n: number) => (n / PUSH_SECONDS).toFixed(1);
    console.log(`pushes/s, ${CLIENTS} clients, ${PUSH_SECONDS} s each: alone ${rate(alone.ok)}; with gc --grace 0s back to back (${runs} runs) ${rate(withGc.ok)} (${((1 - withGc.ok / alone.ok) * 100).toFixed(0)}% fewer), ${withGc.refused} refused (MANIFEST_BLOB_UNKNOWN under zero grace, retried by clients)`);
  } finally {
    child.kill("SIGTERM");
    await rm(root, { recursive: true, force: true });
  }
}

await throughput();
await pushCost();
