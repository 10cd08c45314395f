/**
 * Manifest parsing and validation (image manifests, indexes, artifacts; OCI and Docker
 * schema 2), and the revision record each stored manifest gets in its repository.
 */
import type { Context } from "./context.ts";
import { parseDigest, type Digest } from "./digest.ts";
import { RegistryError } from "./errors.ts";
import { DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, FOREIGN_LAYER_TYPES, isIndexType, OCI_INDEX, OCI_MANIFEST } from "./media-types.ts";
import { revisionKey } from "./paths.ts";
import { readText, statLinkedBlob } from "./repository.ts";

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  urls?: string[];
}

export interface ParsedManifest {
  mediaType: string;
  /** What a referrers listing shows as this manifest's artifactType, if any. */
  artifactType?: string;
  annotations?: Record<string, string>;
  subject?: Digest;
  /** Blobs (config, layers) that must be in the repository. */
  blobs: Descriptor[];
  /** Manifests (index children) that must be in the repository. */
  children: Descriptor[];
}

/** What the repository remembers of each manifest it holds. */
export interface Revision {
  mediaType: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  subject?: string;
  /** When this manifest was last pushed (ISO 8601). Absent in data written before Berth kept it. */
  pushedAt?: string;
}

const invalid = (message: string, detail?: unknown) => new RegistryError("MANIFEST_INVALID", detail ?? null, { message });

const MANIFEST_TYPES = new Set([OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST]);

/**
 * Parse and validate a pushed manifest against the image spec (and Docker schema 2): a known
 * manifest media type in Content-Type, a `mediaType` field (when present) equal to it,
 * descriptors with the required fields of the right types, annotations that are string maps.
 * Every rejection is MANIFEST_INVALID naming the field.
 */
export function parseManifest(bytes: Uint8Array, contentType: string | null): ParsedManifest {
  const headerType = contentType?.split(";")[0]?.trim() || undefined;
  if (headerType !== undefined && !MANIFEST_TYPES.has(headerType)) {
    throw invalid(`Content-Type ${headerType} is not a manifest media type`, { contentType: headerType });
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes));
  } catch {
    throw invalid("manifest is not valid JSON");
  }
  if (!isObject(json)) throw invalid("manifest is not a JSON object");
  if (json.schemaVersion !== 2) throw invalid("only schemaVersion 2 manifests are supported", { field: "schemaVersion" });
  const declared = optionalString(json.mediaType, "mediaType");
  if (declared !== undefined && headerType !== undefined && declared !== headerType) {
    throw invalid(`mediaType ${declared} does not match Content-Type ${headerType}`, { field: "mediaType", mediaType: declared, contentType: headerType });
  }
  const mediaType = headerType ?? declared;
  if (mediaType === undefined || !MANIFEST_TYPES.has(mediaType)) {
    throw invalid(mediaType ? `mediaType ${mediaType} is not a manifest media type` : "no Content-Type and no mediaType", { field: "mediaType" });
  }
  const subject = json.subject === undefined ? undefined : parseDescriptor(json.subject, "subject");
  const annotations = optionalAnnotations(json.annotations, "annotations");
  const artifactType = optionalString(json.artifactType, "artifactType");
  const common = { mediaType, annotations, subject: subject && parseDigest(subject.digest) };

  if (isIndexType(mediaType)) {
    if (!Array.isArray(json.manifests)) throw invalid("index has no manifests array", { field: "manifests" });
    const children = json.manifests.map((child, i) => parseDescriptor(child, `manifests[${i}]`));
    return { ...common, artifactType, blobs: [], children };
  }
  if (json.config === undefined) throw invalid("image manifest has no config", { field: "config" });
  const config = parseDescriptor(json.config, "config");
  if (!Array.isArray(json.layers)) throw invalid("image manifest has no layers array", { field: "layers" });
  const layers = json.layers.map((layer, i) => parseDescriptor(layer, `layers[${i}]`));
  const pushedLayers = layers.filter((layer) => !(FOREIGN_LAYER_TYPES.has(layer.mediaType) && layer.urls?.length));
  // The image spec: an artifact without artifactType is typed by its config.
  return { ...common, artifactType: artifactType ?? config.mediaType, blobs: [config, ...pushedLayers], children: [] };
}

/** A descriptor (image-spec descriptor.md): mediaType, digest and size required; optional fields typed. */
function parseDescriptor(value: unknown, field: string): Descriptor {
  if (!isObject(value)) throw invalid(`${field} must be a descriptor object`, { field });
  if (typeof value.mediaType !== "string") throw invalid(`${field}.mediaType must be a string`, { field: `${field}.mediaType` });
  if (typeof value.digest !== "string") throw invalid(`${field}.digest must be a string`, { field: `${field}.digest` });
  try {
    parseDigest(value.digest);
  } catch {
    throw invalid(`${field}.digest is not a valid digest`, { field: `${field}.digest`, digest: value.digest });
  }
  if (typeof value.size !== "number" || !Number.isSafeInteger(value.size) || value.size < 0) {
    throw invalid(`${field}.size must be a non-negative integer`, { field: `${field}.size` });
  }
  const urls = value.urls;
  if (urls !== undefined && !(Array.isArray(urls) && urls.every((url) => typeof url === "string"))) {
    throw invalid(`${field}.urls must be an array of strings`, { field: `${field}.urls` });
  }
  optionalString(value.artifactType, `${field}.artifactType`);
  optionalAnnotations(value.annotations, `${field}.annotations`);
  return value as unknown as Descriptor;
}

function optionalString(value: unknown, field: string): string | undefined {
  if (value !== undefined && typeof value !== "string") throw invalid(`${field} must be a string`, { field });
  return value;
}

/** Annotations are a map of strings to strings (image-spec annotations.md). */
function optionalAnnotations(value: unknown, field: string): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) throw invalid(`${field} must be an object of strings`, { field });
  for (const [key, entry] of Object.entries(value)) {
    const name = `${field}[${JSON.stringify(key.length > 64 ? `${key.slice(0, 64)}…` : key)}]`;
    if (typeof entry !== "string") throw invalid(`${name} must be a string`, { field: name });
  }
  return value as Record<string, string>;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Every blob and child manifest a manifest points to must already be in the repository. */
export async function checkReferences(ctx: Context, name: string, manifest: ParsedManifest): Promise<void> {
  for (const blob of manifest.blobs) {
    const size = await statLinkedBlob(ctx, name, parseDigest(blob.digest));
    if (size === null) throw new RegistryError("MANIFEST_BLOB_UNKNOWN", { digest: blob.digest });
    if (size !== blob.size) throw invalid(`descriptor size ${blob.size} does not match blob size ${size}`, { digest: blob.digest });
  }
  for (const child of manifest.children) {
    if ((await readRevision(ctx, name, parseDigest(child.digest))) === null) {
      throw new RegistryError("MANIFEST_BLOB_UNKNOWN", { digest: child.digest }, { message: "index references an unknown manifest" });
    }
  }
}

export async function readRevision(ctx: Context, name: string, digest: Digest): Promise<Revision | null> {
  const text = await readText(ctx, revisionKey(name, digest));
  return text === null ? null : (JSON.parse(text) as Revision);
}
