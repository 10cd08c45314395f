import { concatStreams } from "../../src/streams.ts";
import { OBJECT_LIMITS, partSizeFor, putInParts, type MultipartApi } from "../../src/storage/object-store.ts";
import { NotFoundError, type BlobStore, type ByteRange, type ListOptions, type ListResult, type ObjectBody, type ObjectStat, type PutOptions } from "../../src/index.ts";

/** R2's rules for multipart uploads are S3's (src/storage/object-store.ts). */
export const MIN_PART_SIZE = OBJECT_LIMITS.minPartSize;

export interface R2StoreOptions {
  /**
   * Part size for streams of unknown length (docker's chunked PATCH). It is also the most
   * memory one such stream holds: R2 parts need a known length, so each part is buffered.
   * Default and minimum 5 MiB (see README: larger parts measured no faster).
   */
  partSize?: number;
  /** Streams of known length up to this size are one streamed put; larger go multipart. */
  maxSinglePut?: number;
}

/**
 * A BlobStore on an R2 bucket. R2 stores a stream only when its length is known up
 * front, so: a known length streams straight through (FixedLengthStream), an unknown one
 * is cut into equal parts of a multipart upload, and `concat` (R2 has no copy or rename)
 * streams the sources into one new object of their summed length.
 */
export class R2Store implements BlobStore {
  readonly driver: string = "r2";
  private readonly partSize: number;
  private readonly maxSinglePut: number;

  constructor(private readonly bucket: R2Bucket, options: R2StoreOptions = {}) {
    this.partSize = Math.max(MIN_PART_SIZE, options.partSize ?? MIN_PART_SIZE);
    this.maxSinglePut = Math.min(OBJECT_LIMITS.maxSinglePut, options.maxSinglePut ?? OBJECT_LIMITS.maxSinglePut);
  }

  async head(key: string): Promise<ObjectStat | null> {
    const object = await this.bucket.head(key);
    return object ? { size: object.size, modifiedMs: object.uploaded.getTime() } : null;
  }

  async get(key: string, range?: ByteRange): Promise<ObjectBody | null> {
    // R2 rejects a zero-length range; an empty read needs only the size.
    if (range?.length === 0) {
      const info = await this.head(key);
      return info && { size: info.size, body: new Blob([]).stream() };
    }
    const object = await this.bucket.get(key, range ? { range: { offset: range.offset, length: range.length } } : undefined);
    return object && { size: object.size, body: object.body };
  }

  async put(key: string, body: ReadableStream<Uint8Array> | Uint8Array, options?: PutOptions): Promise<number> {
    if (body instanceof Uint8Array) {
      await this.bucket.put(key, body);
      return body.byteLength;
    }
    // A failing body (SIZE_INVALID from the core's meter) rejects the put with its own error,
    // so the registry answers 400, not 500: workerd's R2 put passes the stream's error on.
    const size = options?.size;
    if (size !== undefined && size <= this.maxSinglePut) return this.putKnownLength(key, body, size);
    return putInParts(this.multipart, key, body, partSizeFor(size, this.partSize), (bytes) => this.bucket.put(key, bytes).then(() => {}));
  }

  async concat(sources: string[], dest: string): Promise<void> {
    const sizes = await Promise.all(sources.map(async (key) => (await this.head(key))?.size));
    const missing = sources.find((_, i) => sizes[i] === undefined);
    if (missing !== undefined) throw new NotFoundError(missing);
    const total = sizes.reduce((sum: number, size) => sum + size!, 0);
    const open = (key: string) => async () => {
      const object = await this.bucket.get(key);
      if (!object) throw new NotFoundError(key);
      return object.body;
    };
    if (total > this.maxSinglePut) return void (await this.put(dest, concatStreams(sources.map(open)), { size: total }));
    // One put of the summed length, fed by native pipes: R2 bodies arrive in 4 KiB chunks
    // locally, and JS streams in between halved the copy speed (README, measurements).
    const fixed = new FixedLengthStream(total);
    const written = this.bucket.put(dest, fixed.readable);
    written.catch(() => {}); // awaited below, after the sources are piped
    try {
      for (const key of sources) await (await open(key)()).pipeTo(fixed.writable, { preventClose: true });
      await fixed.writable.close();
    } catch (error) {
      await fixed.writable.abort(error).catch(() => {});
      throw error;
    }
    await written;
  }

  async delete(key: string): Promise<void> {
    await this.bucket.delete(key);
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    // R2 pages hold at most 1,000 keys (sometimes fewer); the contract wants `limit` when there are that many.
    const limit = options.limit ?? Infinity;
    const keys: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await this.bucket.list({
        prefix,
        limit: Math.min(1000, limit - keys.length),
        ...(cursor ? { cursor } : { startAfter: options.startAfter }),
      });
      keys.push(...page.objects.map((object) => object.key));
      if (!page.truncated) return { keys, truncated: false };
      if (keys.length >= limit) return { keys, truncated: true };
      cursor = page.cursor;
    }
  }

  private async putKnownLength(key: string, stream: ReadableStream<Uint8Array>, size: number): Promise<number> {
    const fixed = new FixedLengthStream(size);
    const piped = stream.pipeTo(fixed.writable);
    piped.catch(() => {}); // surfaces through the put below
    await Promise.all([this.bucket.put(key, fixed.readable), piped]);
    return size;
  }

  /** R2's multipart calls as plain data: any isolate can resume an upload by its id. */
  private readonly multipart: MultipartApi = {
    create: async (key) => ({ key, uploadId: (await this.bucket.createMultipartUpload(key)).uploadId }),
    uploadPart: (upload, partNumber, bytes) => this.bucket.resumeMultipartUpload(upload.key, upload.uploadId).uploadPart(partNumber, bytes),
    complete: async (upload, parts) => void (await this.bucket.resumeMultipartUpload(upload.key, upload.uploadId).complete(parts)),
    abort: (upload) => this.bucket.resumeMultipartUpload(upload.key, upload.uploadId).abort(),
  };
}
