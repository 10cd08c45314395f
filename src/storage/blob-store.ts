/**
 * The storage interface every Berth backend implements: a small, object-store-like
 * key/value space (think S3 or R2), modelled on distribution's storagedriver.
 *
 * Keys are `/`-separated strings built only in `src/paths.ts`; no key is ever a
 * prefix-directory of another key's leaf (`a` and `a/b` never both exist), so a
 * filesystem store can map keys to paths one-to-one. Every store must pass the contract
 * suite in `test/storage/`.
 */

/** Thrown (or returned as null, where documented) when a key does not exist. */
export class NotFoundError extends Error {
  constructor(readonly key: string) {
    super(`not found: ${key}`);
    this.name = "NotFoundError";
  }
}

/** A byte range to read: `length` bytes starting at `offset`. Always within the object. */
export interface ByteRange {
  offset: number;
  length: number;
}

export interface ObjectInfo {
  size: number;
}

/** What `head` tells: the size, and when the object was last written (garbage collection needs it). */
export interface ObjectStat extends ObjectInfo {
  /**
   * When the object at this key was last written (put or concat), in ms since the epoch, by
   * the store's clock: file mtime, R2 `uploaded`, S3 `LastModified`. A store that cannot tell
   * returns the current time: then nothing looks old, so nothing is collected (safe, not tidy).
   */
  modifiedMs: number;
}

export interface ObjectBody extends ObjectInfo {
  /** The bytes (or the requested range of them), streamed. */
  body: ReadableStream<Uint8Array>;
  /**
   * The same bytes whole, when the store already holds them in memory (a small file read
   * in one call, the memory store). Read them through `readBytes` (src/streams.ts), which
   * takes these when present; build such an object with `bodyOfBytes`.
   */
  bytes?: Uint8Array;
}

export interface PutOptions {
  /** The exact byte count when known in advance; stores may use it (R2 needs it). */
  size?: number;
}

export interface ListOptions {
  /** Only keys strictly after this one (lexical, by UTF-16 code unit). */
  startAfter?: string;
  /** At most this many keys; stores may return fewer only when there are no more. */
  limit?: number;
}

export interface ListResult {
  /** Matching keys in lexical order. */
  keys: string[];
  /** True when more keys follow the last one returned. */
  truncated: boolean;
}

export interface BlobStore {
  /** A short name for metrics (`registry_storage_action_seconds{driver}`): filesystem, r2, s3, inmemory. */
  readonly driver?: string;

  /** Size and last write time of the object at `key`, or null when it does not exist. */
  head(key: string): Promise<ObjectStat | null>;

  /**
   * Stream the object at `key` (or `range` of it), or null when it does not exist.
   * `size` is always the size of the whole object.
   */
  get(key: string, range?: ByteRange): Promise<ObjectBody | null>;

  /**
   * Store `body` at `key`, atomically: readers see the old object or the whole new one,
   * never a part. If the body stream errors, nothing is written and the error is rethrown.
   * Returns the number of bytes written.
   */
  put(key: string, body: ReadableStream<Uint8Array> | Uint8Array, options?: PutOptions): Promise<number>;

  /**
   * Atomically make the concatenation of `sources` (in order) available at `dest`.
   * Sources are left in place or removed, at the store's choice (callers delete them
   * afterwards). This is how a multi-request upload becomes a blob; a store can make
   * the one-source case a rename.
   */
  concat(sources: string[], dest: string): Promise<void>;

  /** Remove `key`; removing a missing key is not an error. */
  delete(key: string): Promise<void>;

  /**
   * Keys that start with `prefix`, in lexical order, paginated. A page costs about a page
   * (plus the depth of the key space), however many keys the store holds.
   */
  list(prefix: string, options?: ListOptions): Promise<ListResult>;

  /**
   * Optional capability: a URL from which anyone may GET the object at `key` for a while
   * (an S3 presigned URL). Present only when the store can and is configured to; blob
   * GETs then redirect there, so the bytes do not pass through the registry.
   */
  presignGet?(key: string): Promise<string>;
}
