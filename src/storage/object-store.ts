/**
 * What every multipart object store (R2, S3) decides the same way, so neither store file
 * carries the other's logic: how large parts are, cutting a stream into equal parts with
 * one part in memory at a time, running a multipart upload to completion or abort, and
 * planning a concatenation as server-side copies where the store can copy.
 *
 * A multipart upload is plain data (`MultipartUpload`: key, upload id, parts with their
 * ETags), never a live handle, so any process or isolate that has it can continue,
 * complete or abort the upload (R2's `resumeMultipartUpload`, S3's upload id).
 */

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** The S3 rules R2 follows too: parts 5 MiB to 5 GiB (the last may be shorter), at most 10,000. */
export const OBJECT_LIMITS = {
  minPartSize: 5 * MiB,
  maxPartSize: 5 * GiB,
  maxParts: 10_000,
  /** Largest single PUT (S3: 5 GiB; R2's binding: 5 GiB minus 5 MiB) and largest single copy. */
  maxSinglePut: 5 * GiB - 5 * MiB,
  maxSingleCopy: 5 * GiB,
};
export type ObjectLimits = typeof OBJECT_LIMITS;

export interface MultipartUpload {
  key: string;
  uploadId: string;
}

export interface UploadedPart {
  partNumber: number;
  etag: string;
}

/** A store's multipart calls. Each takes the upload as data, so no call needs the process that created it. */
export interface MultipartApi {
  create(key: string): Promise<MultipartUpload>;
  uploadPart(upload: MultipartUpload, partNumber: number, bytes: Uint8Array): Promise<UploadedPart>;
  complete(upload: MultipartUpload, parts: UploadedPart[]): Promise<void>;
  abort(upload: MultipartUpload): Promise<void>;
}

/** The configured part size, or larger (whole MiB) when `size` bytes would otherwise need too many parts. */
export function partSizeFor(size: number | undefined, partSize: number, limits: Pick<ObjectLimits, "maxParts" | "minPartSize"> = OBJECT_LIMITS): number {
  const configured = Math.max(limits.minPartSize, partSize);
  return size === undefined ? configured : Math.max(configured, Math.ceil(size / limits.maxParts / MiB) * MiB);
}

/** Cut a stream into fresh `size`-byte buffers (the last one shorter), copying each byte once. */
export async function* equalParts(stream: ReadableStream<Uint8Array>, size: number): AsyncGenerator<Uint8Array> {
  let buffer = new Uint8Array(size);
  let filled = 0;
  const reader = stream.getReader();
  let ended = false;
  try {
    for (let next = await reader.read(); !(ended = next.done); next = await reader.read()) {
      let chunk = next.value;
      while (chunk.byteLength > 0) {
        const take = Math.min(size - filled, chunk.byteLength);
        buffer.set(chunk.subarray(0, take), filled);
        filled += take;
        chunk = chunk.subarray(take);
        if (filled === size) {
          yield buffer;
          buffer = new Uint8Array(size);
          filled = 0;
        }
      }
    }
  } finally {
    // Left early (a part failed to upload): let the source know nobody reads on.
    if (!ended) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
  if (filled > 0) yield buffer.subarray(0, filled);
}

/**
 * Store `stream` as equal parts of `partSize`; one that ends within its first part goes to
 * `putSmall` instead. Memory held: one part. Any failure aborts the upload, so nothing is
 * visible at `key` unless every byte arrived. Resolves with the bytes written.
 */
export async function putInParts(
  api: MultipartApi,
  key: string,
  stream: ReadableStream<Uint8Array>,
  partSize: number,
  putSmall: (bytes: Uint8Array) => Promise<void>,
  maxParts = OBJECT_LIMITS.maxParts,
): Promise<number> {
  const parts = equalParts(stream, partSize);
  const first = await parts.next();
  if (first.done || first.value.byteLength < partSize) {
    const bytes = first.done ? new Uint8Array(0) : first.value;
    await putSmall(bytes);
    return bytes.byteLength;
  }
  let written = 0;
  await runMultipart(api, key, async (upload) => {
    try {
    const uploaded: UploadedPart[] = [];
    for (let part: IteratorResult<Uint8Array> = first; !part.done; part = await parts.next()) {
      if (uploaded.length === maxParts) throw new Error(`more than ${maxParts} parts of ${partSize} bytes`);
      uploaded.push(await api.uploadPart(upload, uploaded.length + 1, part.value));
      written += part.value.byteLength;
    }
    return uploaded;
    } finally {
      await parts.return(undefined);
    }
  });
  return written;
}

/** Create a multipart upload, let `fill` add its parts, complete it; abort it on any failure. */
export async function runMultipart(api: MultipartApi, key: string, fill: (upload: MultipartUpload) => Promise<UploadedPart[]>): Promise<void> {
  const upload = await api.create(key);
  try {
    await api.complete(upload, await fill(upload));
  } catch (error) {
    await api.abort(upload).catch(() => {});
    throw error;
  }
}

/** A byte range of one source object. */
export interface SourceRange {
  source: number;
  offset: number;
  length: number;
}

/** One part of a planned concatenation: copied by the store, or read and uploaded by us. */
export type ConcatPart = { copy: SourceRange } | { read: SourceRange[] };

/**
 * Plan the concatenation of objects of `sizes` as multipart parts. Ranges of at least the
 * minimum part size are server-side copies (split to stay under the largest part); shorter
 * runs of bytes are gathered into read parts of `fill` bytes (the last part may be short),
 * taking bytes from the front of a big source when a small one needs company. So only the
 * small pieces are downloaded, and at most `fill` bytes are ever held.
 */
export function planConcat(sizes: number[], limits: Pick<ObjectLimits, "minPartSize" | "maxPartSize" | "maxParts"> = OBJECT_LIMITS): ConcatPart[] {
  const total = sizes.reduce((sum, size) => sum + size, 0);
  const fill = partSizeFor(total, limits.minPartSize, limits);
  const parts: ConcatPart[] = [];
  let pending: SourceRange[] = [];
  let pendingBytes = 0;
  const flush = () => {
    if (pendingBytes > 0) parts.push({ read: pending });
    pending = [];
    pendingBytes = 0;
  };
  sizes.forEach((size, source) => {
    let offset = 0;
    if (pendingBytes > 0) {
      const take = Math.min(size, fill - pendingBytes);
      if (take > 0) pending.push({ source, offset, length: take });
      pendingBytes += take;
      offset += take;
      if (pendingBytes === fill) flush();
    }
    const rest = size - offset;
    if (rest === 0) return;
    if (rest < fill) {
      pending.push({ source, offset, length: rest });
      pendingBytes += rest;
      return;
    }
    const count = Math.ceil(rest / limits.maxPartSize);
    const length = Math.ceil(rest / count);
    for (let at = offset; at < size; at += length) parts.push({ copy: { source, offset: at, length: Math.min(length, size - at) } });
  });
  flush();
  if (parts.length > limits.maxParts) throw new Error(`concatenation needs ${parts.length} parts, more than ${limits.maxParts}`);
  return parts;
}
