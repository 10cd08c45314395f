/**
 * A BlobStore on any S3-compatible bucket (AWS S3, R2's S3 API, MinIO, Ceph RGW), written
 * once for Node, Deno and Workers. Bodies go up as whole parts of bounded size (S3 wants
 * a length per request), `concat` copies on the server (UploadPartCopy) so assembling an
 * upload never downloads it, and listings use StartAfter, so a page costs a page.
 */
import { concatStreams, lockedBody, streamOf } from "../../streams.ts";
import { NotFoundError, type BlobStore, type ByteRange, type ListOptions, type ListResult, type ObjectBody, type ObjectStat, type PutOptions } from "../blob-store.ts";
import { OBJECT_LIMITS, partSizeFor, planConcat, putInParts, runMultipart, type ConcatPart, type ObjectLimits, type UploadedPart } from "../object-store.ts";
import { S3Client, S3Error, type S3Location } from "./client.ts";

export interface S3StoreOptions extends S3Location {
  /** Every key is stored under this prefix (e.g. `registry/`), so one bucket can hold more. */
  prefix?: string;
  /** Part size for bodies going up; also the most memory one body holds. Default and minimum 5 MiB. */
  partSize?: number;
  /** Answer blob GETs with presigned URLs (`presignGet`), so pulls do not pass through Berth. */
  redirect?: boolean;
  /** For tests: smaller S3 limits, so large-object paths run on small data. */
  limits?: Partial<ObjectLimits>;
}

/** How long a presigned blob URL lives: long enough for a slow pull to start. */
const PRESIGN_SECONDS = 20 * 60;

export class S3Store implements BlobStore {
  readonly client: S3Client;
  private readonly prefix: string;
  private readonly partSize: number;
  private readonly limits: ObjectLimits;
  /** Set once the server answers UploadPartCopy with NotImplemented (s3rver): then concat streams. */
  private copyUnsupported = false;

  constructor(options: S3StoreOptions) {
    this.client = new S3Client(options);
    this.prefix = options.prefix ?? "";
    this.limits = { ...OBJECT_LIMITS, ...options.limits };
    this.partSize = Math.max(this.limits.minPartSize, options.partSize ?? this.limits.minPartSize);
    if (!options.redirect) this.presignGet = undefined;
  }

  /**
   * Make sure the bucket answers and takes these credentials: one listing of at most one
   * key. Throws an Error whose message says which (for a clear startup failure).
   */
  async check(): Promise<void> {
    const where = `bucket "${this.client.location.bucket}"${this.client.location.endpoint ? ` at ${this.client.location.endpoint}` : ""}`;
    try {
      await this.client.list(this.prefix, { maxKeys: 1 });
    } catch (error) {
      if (!(error instanceof S3Error)) throw new Error(`cannot reach ${where}: ${(error as Error).message}`);
      if (error.code === "NoSuchBucket" || (error.status === 404 && !error.code)) throw new Error(`${where} does not exist`);
      if (["InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "InvalidToken", "ExpiredToken"].includes(error.code) || error.status === 403) {
        throw new Error(`${where} refused the credentials (${error.code || error.status}): check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`);
      }
      throw new Error(`${where} answered ${error.message}`);
    }
  }

  async head(key: string): Promise<ObjectStat | null> {
    const response = await this.client.head(this.prefix + key);
    if (!response) return null;
    // Last-Modified has one-second resolution; without one, "now", so GC never takes it for old.
    const modified = Date.parse(response.headers.get("last-modified") ?? "");
    return { size: Number(response.headers.get("content-length")), modifiedMs: Number.isNaN(modified) ? Date.now() : modified };
  }

  async get(key: string, range?: ByteRange): Promise<ObjectBody | null> {
    // A zero-length range cannot be asked for in a Range header; it needs only the size.
    if (range?.length === 0) {
      const info = await this.head(key);
      return info && { size: info.size, body: streamOf(new Uint8Array(0)) };
    }
    const response = await this.client.get(this.prefix + key, range);
    if (!response) return null;
    const whole = Number(response.status === 206 ? /\/(\d+)$/.exec(response.headers.get("content-range") ?? "")?.[1] : response.headers.get("content-length"));
    // A server that ignored the Range header sent the whole object: never pass that off as the range.
    if (range && response.status !== 206 && !(range.offset === 0 && range.length === whole)) {
      await response.body?.cancel();
      throw new Error(`S3 answered ${response.status} without the range asked for ${key}`);
    }
    return { size: whole, body: response.body ? lockedBody(response.body) : streamOf(new Uint8Array(0)) };
  }

  async put(key: string, body: ReadableStream<Uint8Array> | Uint8Array, options?: PutOptions): Promise<number> {
    if (body instanceof Uint8Array && body.byteLength <= this.limits.maxSinglePut) {
      await this.client.put(this.prefix + key, body);
      return body.byteLength;
    }
    const stream = body instanceof Uint8Array ? streamOf(body) : body;
    const size = options?.size ?? (body instanceof Uint8Array ? body.byteLength : undefined);
    return putInParts(this.client, this.prefix + key, stream, partSizeFor(size, this.partSize, this.limits), (bytes) => this.client.put(this.prefix + key, bytes), this.limits.maxParts);
  }

  async concat(sources: string[], dest: string): Promise<void> {
    const sizes = await Promise.all(sources.map(async (key) => (await this.head(key))?.size));
    const missing = sources.findIndex((_, i) => sizes[i] === undefined);
    if (missing >= 0) throw new NotFoundError(sources[missing]!);
    const known = sizes as number[];
    if (sources.length === 1 && known[0]! <= this.limits.maxSingleCopy) return this.client.copy(this.prefix + sources[0]!, this.prefix + dest).catch(this.notFound(sources));
    if (!this.copyUnsupported) {
      const plan = planConcat(known, this.limits);
      if (plan.length === 1 && "read" in plan[0]!) return this.client.put(this.prefix + dest, await this.readPart(sources, plan[0].read));
      try {
        return await runMultipart(this.client, this.prefix + dest, (upload) => this.fillParts(upload, sources, plan));
      } catch (error) {
        if (!(error instanceof S3Error && error.code === "NotImplemented")) throw this.notFound(sources)(error);
        this.copyUnsupported = true;
      }
    }
    const total = known.reduce((sum, size) => sum + size, 0);
    await this.put(dest, concatStreams(sources.map((key) => () => this.open(key))), { size: total });
  }

  async delete(key: string): Promise<void> {
    await this.client.delete(this.prefix + key);
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    const limit = options.limit ?? Infinity;
    const keys: string[] = [];
    let continuation: string | undefined;
    const startAfter = options.startAfter === undefined ? undefined : this.prefix + options.startAfter;
    for (;;) {
      const page = await this.client.list(this.prefix + prefix, { startAfter, continuation, maxKeys: Math.min(1000, limit - keys.length) });
      keys.push(...page.keys.map((key) => key.slice(this.prefix.length)));
      if (!page.truncated) return { keys, truncated: false };
      if (keys.length >= limit) return { keys, truncated: true };
      continuation = page.continuation;
    }
  }

  /** A presigned GET of `key` (only with `redirect`; otherwise the store has no such capability). */
  presignGet?: (key: string) => Promise<string> = (key) => this.client.presign(this.prefix + key, PRESIGN_SECONDS);

  private async fillParts(upload: { key: string; uploadId: string }, sources: string[], plan: ConcatPart[]): Promise<UploadedPart[]> {
    const parts: UploadedPart[] = [];
    for (const [i, part] of plan.entries()) {
      if ("copy" in part) {
        const { source, offset, length } = part.copy;
        parts.push(await this.client.uploadPartCopy(upload, i + 1, this.prefix + sources[source]!, offset, length));
      } else {
        parts.push(await this.client.uploadPart(upload, i + 1, await this.readPart(sources, part.read)));
      }
    }
    return parts;
  }

  /** The bytes of some small ranges, read into one buffer (at most one part). */
  private async readPart(sources: string[], ranges: { source: number; offset: number; length: number }[]): Promise<Uint8Array> {
    const bytes = new Uint8Array(ranges.reduce((sum, range) => sum + range.length, 0));
    let at = 0;
    for (const { source, offset, length } of ranges) {
      const object = await this.get(sources[source]!, { offset, length });
      if (!object) throw new NotFoundError(sources[source]!);
      const reader = object.body.getReader();
      for (let next = await reader.read(); !next.done; next = await reader.read()) {
        if (at + next.value.byteLength > bytes.byteLength) throw new Error(`S3 sent more than the ${length} bytes asked of ${sources[source]}`);
        bytes.set(next.value, at);
        at += next.value.byteLength;
      }
    }
    if (at !== bytes.byteLength) throw new Error(`S3 sent ${at} of ${bytes.byteLength} bytes`);
    return bytes;
  }

  private async open(key: string): Promise<ReadableStream<Uint8Array>> {
    const object = await this.get(key);
    if (!object) throw new NotFoundError(key);
    return object.body;
  }

  /** A source deleted between the heads and the copy is that source's NotFoundError. */
  private notFound(sources: string[]): (error: unknown) => never {
    return (error) => {
      if (error instanceof S3Error && error.code === "NoSuchKey") throw new NotFoundError(sources[0]!);
      throw error;
    };
  }
}
