// end-4a, end-4b: POST /v2/<name>/blobs/uploads/[?digest=<d>]; end-11: POST ?mount=<d>[&from=<other>]
// end-5: PATCH /v2/<name>/blobs/uploads/<id>; end-6: PUT /v2/<name>/blobs/uploads/<id>?digest=<d>
// GET /v2/<name>/blobs/uploads/<id> (status), DELETE (cancel)
import type { RegistryRouter } from "../routing.ts";
import type { IRequest } from "itty-router";
import type { Context } from "../context.ts";
import { parseDigest, type Digest } from "../digest.ts";
import { validateName } from "../reference.ts";
import { survivesSweep, touchBlob } from "../lifecycle/sweep-marks.ts";
import { blobKey } from "../paths.ts";
import { findLinkingRepository, linkBlob, statLinkedBlob } from "../repository.ts";
import { decodeParam, grantOf, nameOf } from "../routing.ts";
import { nonEmptyBody } from "../streams.ts";
import {
  appendToUpload,
  deleteUpload,
  finishUpload,
  loadUpload,
  startUpload,
  rangeNotSatisfiable,
  sessionHeaders,
  type UploadState,
} from "../upload-sessions.ts";

const UPLOAD = "/v2/:name+/blobs/uploads/:id";

export function registerUploadRoutes(router: RegistryRouter, ctx: Context): void {
  router.post("/v2/:name+/blobs/uploads/", async (request) => {
    const name = nameOf(request);
    const url = new URL(request.url);
    const mount = url.searchParams.get("mount");
    if (mount !== null) {
      const mounted = await tryMount(ctx, request, name, parseDigest(mount), url.searchParams.get("from"));
      if (mounted) return blobCreated(name, mounted);
    }
    const digest = url.searchParams.get("digest");
    if (digest !== null) parseDigest(digest); // reject a bad digest before starting anything
    const state = await startUpload(ctx, name);
    if (digest === null) return uploadAccepted(state);
    // Monolithic upload: the whole blob in this one request; a failure leaves no session.
    try {
      return blobCreated(name, await finishWithBody(ctx, request, state, digest));
    } catch (error) {
      await deleteUpload(ctx, state);
      throw error;
    }
  });

  router.patch(UPLOAD, async (request) => {
    const state = await loadUpload(ctx, nameOf(request), request.params.id!);
    const chunk = chunkOf(request, state); // a bad Content-Range fails before any byte is read
    const body = await nonEmptyBody(request as unknown as Request);
    if (!body) return uploadAccepted(state);
    return uploadAccepted(await appendToUpload(ctx, state, body, chunk));
  });

  router.put(UPLOAD, async (request) => {
    const state = await loadUpload(ctx, nameOf(request), request.params.id!);
    const digest = new URL(request.url).searchParams.get("digest");
    return blobCreated(state.name, await finishWithBody(ctx, request, state, digest));
  });

  router.get(UPLOAD, async (request) => {
    const state = await loadUpload(ctx, nameOf(request), request.params.id!);
    return new Response(null, { status: 204, headers: sessionHeaders(state) });
  });

  router.delete(UPLOAD, async (request) => {
    await deleteUpload(ctx, await loadUpload(ctx, nameOf(request), request.params.id!));
    return new Response(null, { status: 204 });
  });
}

/** Append the request's body (if any) as the final chunk, then verify and publish. */
async function finishWithBody(ctx: Context, request: IRequest, state: UploadState, digest: string | null): Promise<Digest> {
  parseDigest(digest ?? ""); // reject a bad digest before reading any bytes
  const chunk = chunkOf(request, state);
  const body = await nonEmptyBody(request as unknown as Request);
  const complete = body ? await appendToUpload(ctx, state, body, chunk) : state;
  return finishUpload(ctx, complete, digest, request as unknown as Request);
}

/**
 * Link a blob from another repository the client may pull (`from`, or with no `from` any
 * repository that has it, as the spec allows); null when that is not possible.
 */
async function tryMount(ctx: Context, request: IRequest, name: string, digest: Digest, from: string | null): Promise<Digest | null> {
  const grant = grantOf(request);
  let fromName: string;
  if (from === null) {
    // Any repository the caller may pull, found cheaply (repository.ts, findLinkingRepository).
    const found = await findLinkingRepository(ctx, digest, (source) => grant.mayPull(source));
    if (found === null) return null;
    fromName = found;
  } else {
    const source = decodeParam(from);
    try {
      validateName(source);
    } catch {
      return null; // not a repository name: fall back to a normal upload
    }
    // The before stage asked for pull on `from` as an optional scope; without it, a normal upload.
    if (!grant.granted("repository", source, "pull")) return null;
    if ((await statLinkedBlob(ctx, source, digest)) === null) return null;
    fromName = source;
  }
  await linkBlob(ctx, name, digest);
  // A 201 promises the blob to this client's manifest PUT, as a HEAD 200 does (src/lifecycle).
  await touchBlob(ctx.store, digest);
  if (!(await survivesSweep(ctx.store, blobKey(digest)))) return null; // collected meanwhile: a normal upload
  const size = (await ctx.store.head(blobKey(digest)))?.size ?? 0;
  ctx.emit("onBlobMounted", { name, digest: digest.value, size, from: fromName }, request as unknown as Request);
  return digest;
}

/**
 * Where a request's bytes go and how many there are: `Content-Range: <start>-<end>` as sent
 * with chunks (absent for streamed uploads) and Content-Length. A range that is malformed
 * (an empty header too), beyond safe integers, or of another length than the declared body
 * is one the upload cannot take: 416 before any byte is read. Only Content-Length, which the
 * HTTP layer enforces, becomes the store's size hint; a range alone is checked as the bytes
 * arrive (416 when they differ), so a header cannot make a store reserve 9 TB.
 */
function chunkOf(request: IRequest, state: UploadState): { start?: number; length?: number; lengthIsDeclared: boolean } {
  const header = request.headers.get("content-length");
  const declared = header !== null && /^\d+$/.test(header) ? Number(header) : undefined;
  const range = request.headers.get("content-range");
  if (range === null) return { length: declared, lengthIsDeclared: declared !== undefined };
  const match = range.trim().match(/^(\d+)-(\d+)$/); // the spec form only, as distribution
  const start = Number(match?.[1]);
  const end = Number(match?.[2]);
  if (!match || !Number.isSafeInteger(end) || end < start) throw rangeNotSatisfiable(state, `malformed Content-Range ${JSON.stringify(range)}`);
  const length = end - start + 1;
  if (declared !== undefined && declared !== length) {
    throw rangeNotSatisfiable(state, `Content-Range ${range} is ${length} bytes, Content-Length ${declared}`);
  }
  return { start, length, lengthIsDeclared: declared !== undefined };
}

const uploadAccepted = (state: UploadState) =>
  new Response(null, { status: 202, headers: { ...sessionHeaders(state), "Content-Length": "0" } });

const blobCreated = (name: string, digest: Digest) =>
  new Response(null, {
    status: 201,
    headers: { Location: `/v2/${name}/blobs/${digest.value}`, "Docker-Content-Digest": digest.value, "Content-Length": "0" },
  });
