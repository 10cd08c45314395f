/**
 * A real S3-compatible server for tests: the npm package s3rver in a child process on
 * 127.0.0.1 with a free port and its data in a temp folder, stopped by its pid. Its
 * credentials are fixed (S3RVER/S3RVER). test/storage/s3rver-main.cjs fixes where it differs
 * from S3 and adds UploadPartCopy in front of it. It ignores If-None-Match.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startDaemon } from "../lib/daemon.ts";

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
  const daemon = startDaemon(process.execPath, ["--openssl-legacy-provider", ...args], { env: { ...process.env, BERTH_S3RVER_COPY: copy ? "1" : "0" } });
  const close = async () => {
    await daemon.stop(5_000);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const port = (await daemon.waitForLine(/S3rver listening on [\d.]+:(\d+)/, 30_000))[1]!;
    return { endpoint: `http://127.0.0.1:${port}`, buckets, close };
  } catch (error) {
    await close();
    throw error;
  }
}
