/**
 * Which store a configuration means, decided once for every runtime: an S3 bucket when
 * `storage.s3.bucket` is set, else the runtime's own (a folder on Node and Deno, R2 on
 * Workers). The S3 bucket is checked here, so a wrong endpoint, bucket or credentials stop
 * the start with a message instead of failing the first push with a 500.
 */
import type { BlobStore } from "../storage/blob-store.ts";
import type { Config } from "./schema.ts";
import { ConfigError } from "./values.ts";

export async function createStoreFromConfig(config: Config, createLocal: () => BlobStore | Promise<BlobStore>): Promise<BlobStore> {
  const s3 = config.storage.s3;
  if (!s3.bucket) {
    if (s3.redirect) throw new ConfigError("--s3-redirect needs --s3-bucket (storage.s3.bucket)");
    return createLocal();
  }
  if (!s3.accessKeyId || !s3.secretAccessKey) {
    throw new ConfigError("--s3-bucket needs credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or storage.s3.accessKeyId and storage.s3.secretAccessKey in the config file)");
  }
  if (s3.endpoint !== undefined && !/^https?:\/\/[^/]+/.test(s3.endpoint)) throw new ConfigError(`--s3-endpoint: expected an http:// or https:// URL, got ${JSON.stringify(s3.endpoint)}`);
  const { S3Store } = await import("../storage/s3/store.ts"); // with its signer, only for a bucket
  const store = new S3Store({
    bucket: s3.bucket,
    endpoint: s3.endpoint,
    region: s3.region,
    prefix: s3.prefix && !s3.prefix.endsWith("/") ? `${s3.prefix}/` : s3.prefix,
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
    partSize: config.storage.partSize,
    redirect: s3.redirect,
  });
  try {
    await store.check();
  } catch (error) {
    throw new ConfigError(`--s3-bucket: ${(error as Error).message}`);
  }
  return store;
}

/** Where the data lives, for the startup line (no credentials). */
export function describeStorage(config: Config): string {
  const s3 = config.storage.s3;
  return s3.bucket ? `s3://${s3.bucket}/${s3.prefix}${s3.endpoint ? ` at ${s3.endpoint}` : ""}` : config.storage.root;
}
