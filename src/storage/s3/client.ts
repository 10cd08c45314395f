/**
 * The S3 REST calls Berth makes, over fetch with SigV4 (aws4fetch), on every runtime. Only
 * requests and their XML answers live here; what to do with them is the store's business.
 */
import { AwsClient } from "aws4fetch";
import type { MultipartApi, MultipartUpload, UploadedPart } from "../object-store.ts";

export interface S3Location {
  bucket: string;
  /** e.g. `http://127.0.0.1:9000` (path-style: MinIO, Ceph, R2, s3rver). Default: AWS, virtual-hosted. */
  endpoint?: string;
  /** Default `us-east-1` (R2 takes `auto`). */
  region?: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** An S3 error answer: `code` is S3's (NoSuchBucket, InvalidAccessKeyId, ...), or "" when it sent none. */
export class S3Error extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(`S3 ${status}${code ? ` ${code}` : ""}: ${message}`);
    this.name = "S3Error";
  }
}

export interface ListPage {
  keys: string[];
  truncated: boolean;
  continuation?: string;
}

/** Each key segment percent-encoded: keys may hold ':', '+', '=' (aws4fetch reads a raw '+' as a space). */
const encodeKey = (key: string) => key.split("/").map(encodeURIComponent).join("/");

export class S3Client implements MultipartApi {
  private readonly aws: AwsClient;
  private readonly base: string;

  constructor(readonly location: S3Location) {
    const region = location.region ?? "us-east-1";
    // Retries only ever resend bytes in memory: bodies going up are whole parts.
    this.aws = new AwsClient({ ...location, service: "s3", region, retries: 3 });
    this.base = location.endpoint
      ? `${location.endpoint.replace(/\/+$/, "")}/${location.bucket}`
      : `https://${location.bucket}.s3.${region}.amazonaws.com`;
  }

  url(key: string, query = ""): string {
    return `${this.base}/${encodeKey(key)}${query ? `?${query}` : ""}`;
  }

  /** A signed request; non-2xx answers (other than those in `allow`) become S3Errors. */
  async send(method: string, url: string, init: { headers?: Record<string, string>; body?: Uint8Array | string; allow?: number[] } = {}): Promise<Response> {
    const response = await this.aws.fetch(url, { method, headers: init.headers, body: init.body as BodyInit | undefined });
    if (response.ok || init.allow?.includes(response.status)) return response;
    throw await errorOf(response);
  }

  async head(key: string): Promise<Response | null> {
    const response = await this.send("HEAD", this.url(key), { allow: [404] });
    return response.status === 404 ? null : response;
  }

  async get(key: string, range?: { offset: number; length: number }): Promise<Response | null> {
    const headers: Record<string, string> = range ? { range: `bytes=${range.offset}-${range.offset + range.length - 1}` } : {};
    const response = await this.send("GET", this.url(key), { headers, allow: [404] });
    if (response.status !== 404) return response;
    await response.body?.cancel();
    return null;
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    await drain(await this.send("PUT", this.url(key), { body: bytes }));
  }

  async delete(key: string): Promise<void> {
    await drain(await this.send("DELETE", this.url(key), { allow: [404] }));
  }

  /** CopyObject; S3 may answer 200 with an error in the body. */
  async copy(source: string, dest: string): Promise<void> {
    await okXml(await this.send("PUT", this.url(dest), { headers: { "x-amz-copy-source": this.copySource(source) } }));
  }

  async list(prefix: string, options: { startAfter?: string; continuation?: string; maxKeys: number }): Promise<ListPage> {
    const query = new URLSearchParams({ "list-type": "2", prefix, "max-keys": String(options.maxKeys) });
    if (options.continuation) query.set("continuation-token", options.continuation);
    else if (options.startAfter !== undefined) query.set("start-after", options.startAfter);
    const xml = await okXml(await this.send("GET", `${this.base}/?${query}`));
    return {
      keys: allTags(xml, "Key"),
      truncated: firstTag(xml, "IsTruncated") === "true",
      continuation: firstTag(xml, "NextContinuationToken"),
    };
  }

  async create(key: string): Promise<MultipartUpload> {
    const xml = await okXml(await this.send("POST", this.url(key, "uploads")));
    const uploadId = firstTag(xml, "UploadId");
    if (!uploadId) throw new S3Error(200, "", "CreateMultipartUpload answered without an UploadId");
    return { key, uploadId };
  }

  async uploadPart(upload: MultipartUpload, partNumber: number, bytes: Uint8Array): Promise<UploadedPart> {
    const response = await this.send("PUT", this.url(upload.key, partQuery(upload, partNumber)), { body: bytes });
    await drain(response);
    return { partNumber, etag: response.headers.get("etag") ?? "" };
  }

  /** UploadPartCopy of `length` bytes of `source` from `offset`. */
  async uploadPartCopy(upload: MultipartUpload, partNumber: number, source: string, offset: number, length: number): Promise<UploadedPart> {
    const headers = { "x-amz-copy-source": this.copySource(source), "x-amz-copy-source-range": `bytes=${offset}-${offset + length - 1}` };
    const xml = await okXml(await this.send("PUT", this.url(upload.key, partQuery(upload, partNumber)), { headers }));
    return { partNumber, etag: firstTag(xml, "ETag") ?? "" };
  }

  async complete(upload: MultipartUpload, parts: UploadedPart[]): Promise<void> {
    const body = `<CompleteMultipartUpload>${parts.map((p) => `<Part><PartNumber>${p.partNumber}</PartNumber><ETag>${escapeXml(p.etag)}</ETag></Part>`).join("")}</CompleteMultipartUpload>`;
    await okXml(await this.send("POST", this.url(upload.key, `uploadId=${encodeURIComponent(upload.uploadId)}`), { body, headers: { "content-type": "application/xml" } }));
  }

  async abort(upload: MultipartUpload): Promise<void> {
    await drain(await this.send("DELETE", this.url(upload.key, `uploadId=${encodeURIComponent(upload.uploadId)}`), { allow: [404] }));
  }

  /** A GET URL anyone can use for `expiresSeconds`, signed in its query string. */
  async presign(key: string, expiresSeconds: number): Promise<string> {
    const request = await this.aws.sign(this.url(key, `X-Amz-Expires=${expiresSeconds}`), { method: "GET", aws: { signQuery: true } });
    return request.url;
  }

  private copySource(key: string): string {
    return `/${this.location.bucket}/${encodeKey(key)}`;
  }
}

const partQuery = (upload: MultipartUpload, partNumber: number) => `partNumber=${partNumber}&uploadId=${encodeURIComponent(upload.uploadId)}`;

async function drain(response: Response): Promise<void> {
  await response.body?.cancel();
}

/** The XML of a 2xx answer, or its S3Error: copy and complete may fail after a 200. */
async function okXml(response: Response): Promise<string> {
  const xml = await response.text();
  if (/<Error>/.test(xml)) throw new S3Error(response.status, firstTag(xml, "Code") ?? "", firstTag(xml, "Message") ?? "error in a 200 answer");
  return xml;
}

async function errorOf(response: Response): Promise<S3Error> {
  const xml = await response.text().catch(() => "");
  return new S3Error(response.status, firstTag(xml, "Code") ?? "", firstTag(xml, "Message") ?? (response.statusText || "request failed"));
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
const unescapeXml = (text: string) =>
  text.replace(/&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, name: string) =>
    name.startsWith("#x") ? String.fromCodePoint(parseInt(name.slice(2), 16)) : name.startsWith("#") ? String.fromCodePoint(Number(name.slice(1))) : ENTITIES[name]!,
  );
const escapeXml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

// S3's answers are flat enough that a tag's text is all we need; no XML parser on every runtime.
const firstTag = (xml: string, tag: string) => {
  const match = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml);
  return match ? unescapeXml(match[1]!) : undefined;
};
const allTags = (xml: string, tag: string) => [...xml.matchAll(new RegExp(`<${tag}>([^<]*)</${tag}>`, "g"))].map((m) => unescapeXml(m[1]!));
