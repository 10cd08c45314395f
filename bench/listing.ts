// npm run bench:listing [-- --quick] [--s3]
// What a listing page costs as a registry grows: GET /v2/_catalog?n=100 and
// GET /v2/<name>/tags/list?n=100 (the first page and pages from a random `last`) against
// `berth serve` on Node with 1k, 10k and 100k repositories and tags (--quick: 1k and 10k).
// Fixtures are written straight into the store (files on disk; S3Store puts with --s3),
// not pushed over HTTP, so filling 100k takes seconds. Target: a 100k catalog page within
// 2x of a 1k page. Prints a table and writes JSON to bench/results/.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { catalogKey, tagKey } from "../src/paths.ts";
import { S3Store } from "../src/storage/s3/store.ts";
import { S3RVER_CREDENTIALS, startS3rver, type RunningS3rver } from "../test/storage/s3rver.ts";

const { values: args } = parseArgs({ options: { quick: { type: "boolean", default: false }, s3: { type: "boolean", default: false } } });
const repoDir = path.resolve(import.meta.dirname, "..");
const sizes = args.quick ? [1_000, 10_000] : [1_000, 10_000, 100_000];
const s3Sizes = [1_000, 10_000]; // s3rver takes ~1 s per 1,000 puts
const REQUESTS = 60;
const log = (s: string) => process.stdout.write(s + "\n");
const repoName = (i: number) => `repo-${String(i).padStart(6, "0")}`;
const tagName = (i: number) => `v${String(i).padStart(6, "0")}`;
const TAGGED = "big/app";

interface Row { store: string; count: number; what: string; firstMs: number; pageMs: number; middleMs: number }
const rows: Row[] = [];

/** Repositories and tags as files, exactly where FsStore keeps those keys. */
function fillFolder(root: string, count: number): void {
  const write = (key: string) => {
    const file = path.join(root, ...key.split("/"));
    writeFileSync(file, "");
  };
  mkdirSync(path.join(root, "repositories-index", "big"), { recursive: true });
  for (let i = 0; i < count; i++) write(catalogKey(repoName(i)));
  write(catalogKey(TAGGED));
  const tags = path.join(root, "repositories", ...TAGGED.split("/"), "_manifests", "tags");
  mkdirSync(tags, { recursive: true });
  for (let i = 0; i < count; i++) write(tagKey(TAGGED, tagName(i)));
  // As a registry is most of the time: nothing written in the last few seconds.
  const past = new Date(Date.now() - 60_000);
  for (const dir of [path.join(root, "repositories-index"), tags]) utimesSync(dir, past, past);
}

async function fillBucket(store: S3Store, count: number): Promise<void> {
  const keys = [...Array.from({ length: count }, (_, i) => catalogKey(repoName(i))), catalogKey(TAGGED), ...Array.from({ length: count }, (_, i) => tagKey(TAGGED, tagName(i)))];
  for (let i = 0; i < keys.length; i += 32) await Promise.all(keys.slice(i, i + 32).map((key) => store.put(key, new Uint8Array(0))));
}

function startBerth(extra: string[], env: NodeJS.ProcessEnv = {}): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [path.join(repoDir, "bin/berth.mjs"), "serve", "--host", "127.0.0.1", "--port", "0", "--quiet", ...extra], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      out += chunk;
      const match = /berth listening on (http:\/\/\S+)/.exec(out);
      if (match) resolve({ url: match[1]!, child });
    });
    child.once("exit", (code) => reject(new Error(`berth exited (${code}): ${out}`)));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((done) => child.once("exit", done));
  child.kill("SIGTERM");
  await exited;
}

async function timeGet(url: string, expectItems: number): Promise<number> {
  const started = performance.now();
  const res = await fetch(url);
  const body = (await res.json()) as { repositories?: string[]; tags?: string[] };
  const ms = performance.now() - started;
  const items = body.repositories ?? body.tags ?? [];
  if (res.status !== 200 || items.length !== expectItems) throw new Error(`${url}: ${res.status}, ${items.length} items`);
  return ms;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const KINDS = [
  ["catalog", "/v2/_catalog?n=100", repoName],
  ["tags/list", `/v2/${TAGGED}/tags/list?n=100`, tagName],
] as const;

/**
 * Interleaved: every round asks each server once of each kind, so a busy moment of this
 * shared machine lands on every size alike (the sizes' servers run side by side).
 */
async function measure(store: string, servers: Array<{ url: string; count: number }>): Promise<void> {
  const first = new Map<string, number>();
  for (const { url, count } of servers) for (const [what, path0] of KINDS) first.set(`${count} ${what}`, await timeGet(url + path0, 100));
  for (let i = 0; i < REQUESTS; i++) for (const { url } of servers) for (const [, path0, nameOf] of KINDS) await timeGet(`${url}${path0}&last=${nameOf(i)}`, 100); // warm the JIT
  const page = new Map<string, number[]>();
  const middle = new Map<string, number[]>();
  const add = (map: Map<string, number[]>, key: string, ms: number) => map.set(key, [...(map.get(key) ?? []), ms]);
  for (let i = 0; i < REQUESTS; i++) {
    for (const { url, count } of servers) {
      for (const [what, path0, nameOf] of KINDS) {
        add(page, `${count} ${what}`, await timeGet(url + path0, 100));
        add(middle, `${count} ${what}`, await timeGet(`${url}${path0}&last=${nameOf(Math.floor(Math.random() * (count - 200)))}`, 100));
      }
    }
  }
  for (const { count } of servers) {
    for (const [what] of KINDS) {
      const key = `${count} ${what}`;
      const row = { store, count, what, firstMs: first.get(key)!, pageMs: median(page.get(key)!), middleMs: median(middle.get(key)!) };
      rows.push(row);
      log(`${store.padEnd(8)} ${String(count).padStart(7)} ${what.padEnd(10)} first ${row.firstMs.toFixed(1).padStart(8)} ms  page ${row.pageMs.toFixed(2).padStart(7)} ms  from last ${row.middleMs.toFixed(2).padStart(7)} ms`);
    }
  }
}

const work = mkdtempSync(path.join(tmpdir(), "berth-bench-listing-"));
let s3: RunningS3rver | undefined;
try {
  const running: Array<{ url: string; count: number; child: ChildProcess }> = [];
  try {
    for (const count of sizes) {
      const root = path.join(work, `fs-${count}`);
      const filled = performance.now();
      fillFolder(root, count);
      log(`filled ${count} repositories + ${count} tags on disk in ${((performance.now() - filled) / 1000).toFixed(1)} s`);
      running.push({ ...(await startBerth(["--root", root])), count });
    }
    await measure("node-fs", running);
  } finally {
    for (const { child } of running) await stop(child);
  }
  if (args.s3) {
    s3 = await startS3rver(["berth-bench"]);
    const running3: Array<{ url: string; count: number; child: ChildProcess }> = [];
    try {
      for (const count of s3Sizes) {
        const prefix = `n${count}/`;
        const store = new S3Store({ bucket: "berth-bench", endpoint: s3.endpoint, ...S3RVER_CREDENTIALS, prefix });
        const filled = performance.now();
        await fillBucket(store, count);
        log(`filled ${count} repositories + ${count} tags in s3rver in ${((performance.now() - filled) / 1000).toFixed(1)} s`);
        const env = { AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey };
        running3.push({ ...(await startBerth(["--s3-bucket", "berth-bench", "--s3-endpoint", s3.endpoint, "--s3-prefix", prefix], env)), count });
      }
      await measure("node-s3", running3);
    } finally {
      for (const { child } of running3) await stop(child);
    }
  }
  const catalog = (count: number) => rows.find((r) => r.store === "node-fs" && r.what === "catalog" && r.count === count)!;
  const biggest = sizes.at(-1)!;
  const ratio = catalog(biggest).middleMs / catalog(1_000).middleMs;
  log(`catalog page from last at ${biggest} / at 1000: ${ratio.toFixed(2)}x (target at 100k: within 2x) ${ratio <= 2 ? "PASS" : "FAIL"}`);
  const outDir = path.join(repoDir, "bench/results");
  mkdirSync(outDir, { recursive: true });
  const out = path.join(outDir, `listing-${args.quick ? "quick" : "full"}-${new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19)}.json`);
  writeFileSync(out, JSON.stringify({ rows, ratio }, null, 2));
  log(`wrote ${path.relative(repoDir, out)}`);
} finally {
  await s3?.close();
  rmSync(work, { recursive: true, force: true });
}
