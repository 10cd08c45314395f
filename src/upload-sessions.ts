/**
 * Upload sessions, kept in the store so any process or isolate can continue one.
 * Each request's bytes become one part object; finishing verifies the digest and makes
 * the parts one blob with `store.concat` (a rename when there is a single part).
 */
import type { Context } from "./context.ts";
import { parseDigest, type Digest } from "./digest.ts";
import { RegistryError } from "./errors.ts";
import { hashStream } from "./hashing.ts";
import { NotFoundError } from "./storage/blob-store.ts";
import { blobKey, UPLOAD_ID, UPLOADS_PREFIX, uploadPartKey, uploadPrefix, uploadStateKey } from "./paths.ts";
import { linkBlob, readText, writeJson } from "./repository.ts";
import { survivesSweep, touchBlob } from "./lifecycle/sweep-marks.ts";
import { concatStreams, meterStream } from "./streams.ts";

export interface UploadState {
  id: string;
  name: string;
  /** Bytes received so far. */
  size: number;
  /** Number of part objects holding those bytes. */
  parts: number;
  /** sha256 of all bytes so far, when they were hashed as they streamed in. */
  sha256?: string;
  startedAt: number;
  updatedAt: number;
}

export async function startUpload(ctx: Context, name: string): Promise<UploadState> {
  const now = Date.now();
  const state: UploadState = { id: crypto.randomUUID(), name, size: 0, parts: 0, startedAt: now, updatedAt: now };
  await writeJson(ctx, uploadStateKey(state.id), state);
  sweepExpiredUploads(ctx);
  return state;
}

/** The live session `id` of repository `name`, or BLOB_UPLOAD_UNKNOWN. */
export async function loadUpload(ctx: Context, name: string, id: string): Promise<UploadState> {
  const unknown = new RegistryError("BLOB_UPLOAD_UNKNOWN", { uuid: id });
  if (!UPLOAD_ID.test(id)) throw unknown;
  const text = await readText(ctx, uploadStateKey(id));
  if (text === null) throw unknown;
  const state = JSON.parse(text) as UploadState;
  if (state.name !== name) throw unknown;
  if (isExpired(ctx, state)) {
    ctx.background(() => deleteUpload(ctx, state));
    throw unknown;
  }
  return state;
}

/**
 * Append a request body to the session. `start` is where the client says the bytes go
 * (Content-Range); it must be the current end, since parts cannot overlap or leave holes.
 * `length` is how many bytes the body must have: from Content-Length (`lengthIsDeclared`:
 * the store may rely on it; a mismatch is SIZE_INVALID) or else from Content-Range (a
 * mismatch is 416).
 */
export async function appendToUpload(
  ctx: Context,
  state: UploadState,
  body: ReadableStream<Uint8Array>,
  { start, length, lengthIsDeclared }: { start?: number; length?: number; lengthIsDeclared: boolean },
): Promise<UploadState> {
  if (start !== undefined && start !== state.size) throw rangeNotSatisfiable(state);
  const live = ctx.liveHashers.get(state.id);
  const continuing = live && live.size === state.size ? live : undefined;
  // Hash while storing only when the hash can cover every byte from 0; otherwise finishing re-hashes.
  const hasher = continuing?.hasher ?? (state.size === 0 ? ctx.hasher("sha256") : undefined);
  const metered = meterStream(body, { hasher, expectedSize: length });
  try {
    await ctx.store.put(uploadPartKey(state.id, state.parts), metered.stream, { size: lengthIsDeclared ? length : undefined });
  } catch (error) {
    ctx.liveHashers.delete(state.id);
    const rangeMismatch = !lengthIsDeclared && error instanceof RegistryError && error.code === "SIZE_INVALID";
    throw rangeMismatch ? rangeNotSatisfiable(state, "the body's length differs from its Content-Range") : error;
  }
  const size = state.size + metered.bytes();
  const next: UploadState = {
    ...state,
    size,
    parts: state.parts + 1,
    sha256: hasher ? await hasher.digest() : undefined,
    updatedAt: Date.now(),
  };
  await writeJson(ctx, uploadStateKey(state.id), next);
  if (hasher) ctx.liveHashers.set(state.id, { hasher, size });
  return next;
}

/** Verify the session's bytes against `digest` and publish them as a blob of `name`. */
export async function finishUpload(ctx: Context, state: UploadState, digestText: string | null, request?: Request): Promise<Digest> {
  const digest = parseDigest(digestText ?? "");
  ctx.liveHashers.delete(state.id);
  try {
    const published = await verifyAndPublish(ctx, state, digest);
    // The client's manifest PUT is coming: a collection in progress must keep these bytes.
    await touchBlob(ctx.store, digest);
    if (!(await survivesSweep(ctx.store, blobKey(digest)))) {
      if (published) throw new NotFoundError(blobKey(digest)); // collected already (zero grace)
      await publishParts(ctx, state, digest); // the older copy we kept was collected: ours takes its place
    }
  } catch (error) {
    // A part vanished under us: a concurrent PUT of this session finished or cancelled it.
    if (error instanceof NotFoundError) throw new RegistryError("BLOB_UPLOAD_UNKNOWN", { uuid: state.id });
    throw error;
  }
  await linkBlob(ctx, state.name, digest);
  await deleteUpload(ctx, state);
  ctx.emit("onBlobPushed", { name: state.name, digest: digest.value, size: state.size }, request);
  return digest;
}

/** True when this session's bytes became the blob; false when the registry had it already. */
async function verifyAndPublish(ctx: Context, state: UploadState, digest: Digest): Promise<boolean> {
  const parts = partKeys(state);
  const actual =
    digest.algorithm === "sha256" && state.sha256 !== undefined
      ? state.sha256
      : await hashStream(concatStreams(parts.map((key) => () => openPart(ctx, key))), ctx.hasher(digest.algorithm));
  if (actual !== digest.hex) {
    await deleteUpload(ctx, state);
    throw new RegistryError("DIGEST_INVALID", { expected: digest.value, actual: `${digest.algorithm}:${actual}` });
  }
  // Content-addressed: if another push already stored these bytes, keep theirs.
  if (await ctx.store.head(blobKey(digest))) return false;
  await publishParts(ctx, state, digest);
  return true;
}

const partKeys = (state: UploadState) => Array.from({ length: state.parts }, (_, seq) => uploadPartKey(state.id, seq));

async function publishParts(ctx: Context, state: UploadState, digest: Digest): Promise<void> {
  const parts = partKeys(state);
  if (parts.length === 0) await ctx.store.put(blobKey(digest), new Uint8Array(0));
  else await ctx.store.concat(parts, blobKey(digest));
}

async function openPart(ctx: Context, key: string): Promise<ReadableStream<Uint8Array>> {
  const part = await ctx.store.get(key);
  if (!part) throw new NotFoundError(key);
  return part.body;
}

export async function deleteUpload(ctx: Context, state: Pick<UploadState, "id">): Promise<void> {
  ctx.liveHashers.delete(state.id);
  const { keys } = await ctx.store.list(uploadPrefix(state.id));
  // Parts first, state last: a session whose state is gone is unknown to every process.
  for (const key of keys) if (key !== uploadStateKey(state.id)) await ctx.store.delete(key);
  await ctx.store.delete(uploadStateKey(state.id));
}

export function rangeNotSatisfiable(state: UploadState, message = "chunk does not start at the end of the upload"): RegistryError {
  return new RegistryError("RANGE_INVALID", { size: state.size }, {
    message,
    headers: { ...sessionHeaders(state) },
  });
}

/** The `Range` header value for a session: `0-<last byte offset>` (`0-0` when empty). */
export const uploadRange = (state: UploadState) => `0-${Math.max(0, state.size - 1)}`;

/** Where and how far a session is: on every upload response, errors included. */
export const sessionHeaders = (state: UploadState) => ({
  Location: `/v2/${state.name}/blobs/uploads/${state.id}`,
  Range: uploadRange(state),
  "Docker-Upload-UUID": state.id,
});

const isExpired = (ctx: Context, state: UploadState) => Date.now() - state.updatedAt > ctx.uploadExpiryMs;

const lastSweep = new WeakMap<Context, number>();

/** Delete expired sessions, at most once an hour (or expiry period) per registry, in the background. */
function sweepExpiredUploads(ctx: Context): void {
  const now = Date.now();
  if (now - (lastSweep.get(ctx) ?? 0) < Math.min(ctx.uploadExpiryMs, 60 * 60 * 1000)) return;
  lastSweep.set(ctx, now);
  ctx.background(async () => {
    let startAfter: string | undefined;
    for (;;) {
      const page = await ctx.store.list(UPLOADS_PREFIX, { startAfter, limit: 1000 });
      for (const key of page.keys) {
        if (!key.endsWith("/state.json")) continue;
        const text = await readText(ctx, key);
        const state = text ? (JSON.parse(text) as UploadState) : null;
        if (state && isExpired(ctx, state)) await deleteUpload(ctx, state);
      }
      if (!page.truncated) return;
      startAfter = page.keys.at(-1);
    }
  });
}
