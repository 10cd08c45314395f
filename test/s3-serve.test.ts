/**
 * `berth serve --s3-bucket` as users start it, against a real s3rver: configuration that
 * cannot work stops the start (exit 2, a message naming the problem, no secret in it), the
 * options reach the store (prefix), and --s3-redirect answers blob GETs with a presigned URL
 * that serves the bytes.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRegistry } from "../src/index.ts";
import { S3Store } from "../src/storage/s3/store.ts";
import { pushBlob, randomBytes, sha256 } from "./http/helpers.ts";
import { S3RVER_CREDENTIALS, startS3rver, type RunningS3rver } from "./storage/s3rver.ts";
import { startDaemon } from "./lib/daemon.ts";
import type { Target } from "./targets/index.ts";

const BIN = fileURLToPath(new URL("../bin/berth.mjs", import.meta.url));
const SECRET = "S3RVER";
let s3: RunningS3rver;
beforeAll(async () => {
  s3 = await startS3rver(["berth-serve"]);
}, 60_000);
afterAll(async () => {
  await s3?.close();
});

const berth = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [BIN, "serve", "--port", "0", ...args], { encoding: "utf8", timeout: 30_000, env: { ...process.env, BERTH_CONFIG: "", AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "", ...env } });
const creds = { AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: SECRET };

describe("berth serve --s3-bucket: what cannot work stops the start", () => {
  it("without credentials -> exit 2 naming AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", () => {
    const result = berth(["--s3-bucket", "berth-serve", "--s3-endpoint", s3.endpoint]);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe("berth: --s3-bucket needs credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or storage.s3.accessKeyId and storage.s3.secretAccessKey in the config file)\n");
  });

  it("a missing bucket, refused credentials, an unreachable endpoint, a bad endpoint URL -> exit 2 saying which, no secret printed", () => {
    // s3rver checks only the key id, so a distinctive secret can be used and looked for in the output.
    const creds = { AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: "not-to-be-printed-7f3a" };
    const missing = berth(["--s3-bucket", "no-such-bucket", "--s3-endpoint", s3.endpoint], creds);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toBe(`berth: --s3-bucket: bucket "no-such-bucket" at ${s3.endpoint} does not exist\n`);
    const refused = berth(["--s3-bucket", "berth-serve", "--s3-endpoint", s3.endpoint], { ...creds, AWS_ACCESS_KEY_ID: "NOBODY" });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/^berth: --s3-bucket: bucket "berth-serve" at .* refused the credentials \(InvalidAccessKeyId\): check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\n$/);
    const unreachable = berth(["--s3-bucket", "berth-serve", "--s3-endpoint", "http://127.0.0.1:1"], creds);
    expect(unreachable.status).toBe(2);
    expect(unreachable.stderr).toMatch(/^berth: --s3-bucket: cannot reach bucket "berth-serve" at http:\/\/127\.0\.0\.1:1: /);
    const badUrl = berth(["--s3-bucket", "berth-serve", "--s3-endpoint", "minio:9000"], creds);
    expect(badUrl.status).toBe(2);
    expect(badUrl.stderr).toBe('berth: --s3-endpoint: expected an http:// or https:// URL, got "minio:9000"\n');
    for (const result of [missing, refused, unreachable, badUrl]) expect(result.stderr + result.stdout).not.toContain("not-to-be-printed-7f3a");
  });

  it("--s3-redirect without --s3-bucket -> exit 2", () => {
    const result = berth(["--s3-redirect"]);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe("berth: --s3-redirect needs --s3-bucket (storage.s3.bucket)\n");
  });

  it("a good bucket starts, says where the data lives, keeps keys under --s3-prefix", async () => {
    const child = startDaemon(process.execPath, [BIN, "serve", "--host", "127.0.0.1", "--port", "0", "--s3-bucket", "berth-serve", "--s3-endpoint", s3.endpoint, "--s3-prefix", "team-a"], { env: { ...process.env, BERTH_CONFIG: "", ...creds } });
    try {
      const url = (await child.waitForLine(/berth listening on (http:\/\/\S+) \(storage s3:\/\/berth-serve\/team-a at /, 30_000))[1]!;
      const res = await fetch(`${url}/v2/demo/blobs/uploads/?digest=${sha256("hello")}`, { method: "POST", body: "hello" });
      expect(res.status).toBe(201);
      const outside = new S3Store({ bucket: "berth-serve", endpoint: s3.endpoint, ...S3RVER_CREDENTIALS });
      const keys = (await outside.list("")).keys;
      expect(keys.length).toBeGreaterThan(0);
      expect(keys.every((key) => key.startsWith("team-a/"))).toBe(true);
    } finally {
      await child.stop(5_000);
    }
  });
});

describe("--s3-redirect: GET /v2/<name>/blobs/<digest> -> 307 to a presigned URL", () => {
  it("GET answers 307 with Location (no credentials needed to follow) and Docker-Content-Digest; HEAD still answers itself", async () => {
    const store = new S3Store({ bucket: "berth-serve", endpoint: s3.endpoint, ...S3RVER_CREDENTIALS, prefix: "redirect/", redirect: true });
    const registry = createRegistry({ store });
    const target: Target = { name: "in-process", fetch: (path, init) => registry.fetch(new Request(`http://registry.test${path}`, init)), close: async () => {}, lifecycle: () => Promise.reject(new Error("no lifecycle command")) };
    const bytes = randomBytes(200_000);
    const digest = await pushBlob(target, "app", bytes);
    const res = await target.fetch(`/v2/app/blobs/${digest}`);
    expect(res.status).toBe(307);
    expect(res.headers.get("docker-content-digest")).toBe(digest);
    const location = res.headers.get("location")!;
    expect(location.startsWith(`${s3.endpoint}/berth-serve/redirect/blobs/sha256/`)).toBe(true);
    const followed = await fetch(location);
    expect(followed.status).toBe(200);
    expect(sha256(new Uint8Array(await followed.arrayBuffer()))).toBe(digest);
    const head = await target.fetch(`/v2/app/blobs/${digest}`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe("200000");
    const unknown = await target.fetch(`/v2/app/blobs/${sha256("nothing")}`);
    expect(unknown.status).toBe(404);
    await unknown.body?.cancel();
  });
});
