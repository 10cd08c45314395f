/**
 * A real S3-compatible server for tests: the npm package s3rver in a child process on
 * 127.0.0.1 with a free port and its data in a temp folder, stopped by its pid. Its
 * credentials are fixed (S3RVER/S3RVER). test/storage/s3rver-main.cjs fixes where it differs
 * from S3 and adds UploadPartCopy in front of it. It ignores If-None-Match.
 */
import { spawn } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { stopAndClean, waitForLine } from "../targets/child-process.ts";

const BIN = fileURLToPath(new URL("./s3rver-main.cjs", import.meta.url));

export const S3RVER_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };

export interface RunningS3rver {
  endpoint: string;
  /** Buckets made at startup. */
  buckets: string[];
  close(): Promise<void>;
}

/** With `copy: false`, UploadPartCopy answers NotImplemented, as s3rver itself does. */
export async function startS3rver(buckets: string[] = ["berth-test"], { copy = true } = {}): Promise<RunningS3rver> {
  const dir = await mkdtemp(join(tmpdir(), "berth-s3rver-"));
  const args = [BIN, join(dir, "data"), ...buckets];
  // s3rver makes continuation tokens with DES, which OpenSSL 3 keeps in its legacy provider.
  const child = spawn(process.execPath, ["--openssl-legacy-provider", ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, BERTH_S3RVER_COPY: copy ? "1" : "0" } });
  try {
    const port = await waitForLine(child, /S3rver listening on [\d.]+:(\d+)/, "s3rver", 30_000);
    return { endpoint: `http://127.0.0.1:${port}`, buckets, close: () => stopAndClean(child, dir) };
  } catch (error) {
    await stopAndClean(child, dir);
    throw error;
  }
}
