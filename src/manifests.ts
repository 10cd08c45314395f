/**
 * Manifest parsing and validation (image manifests, indexes, artifacts; OCI and Docker
 * schema 2), and the revision record each stored manifest gets in its repository.
 */
import type { Context } from "./context.ts";
import { parseDigest, type Digest } from "./digest.ts";
import { RegistryError } from "./errors.ts";
import { FOREIGN_LAYER_TYPES, isIndexType, OCI_INDEX, OCI_MANIFEST } from "./media-types.ts";
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

export function parseManifest(bytes: Uint8Array, contentType: string | null): ParsedManifest {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes));
  } catch {
    throw invalid("manifest is not valid JSON");
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw invalid("manifest is not a JSON object");
  const manifest = json as Record<string, unknown>;
  if (manifest.schemaVersion !== 2) throw invalid("only schemaVersion 2 manifests are supported");
  const declaredType = typeof manifest.mediaType === "string" ? manifest.mediaType : undefined;
  const headerType = contentType?.split(";")[0]?.trim() || undefined;
  const isIndex = Array.isArray(manifest.manifests) || isIndexType(declaredType ?? headerType ?? "");
  const mediaType = declaredType ?? headerType ?? (isIndex ? OCI_INDEX : OCI_MANIFEST);
  const subject = manifest.subject === undefined ? undefined : parseDescriptor(manifest.subject, "subject");
  const annotations = isStringRecord(manifest.annotations) ? manifest.annotations : undefined;
  const artifactType = typeof manifest.artifactType === "string" ? manifest.artifactType : undefined;
  const common = { mediaType, annotations, subject: subject && parseDigest(subject.digest) };

  if (isIndex) {
    if (!Array.isArray(manifest.manifests)) throw invalid("index has no manifests array");
    const children = manifest.manifests.map((child, i) => parseDescriptor(child, `manifests[${i}]`));
    return { ...common, artifactType, blobs: [], children };
  }
  if (manifest.config === undefined) throw invalid("image manifest has no config");
  const config = parseDescriptor(manifest.config, "config");
  if (!Array.isArray(manifest.layers)) throw invalid("image manifest has no layers array");
  const layers = manifest.layers.map((layer, i) => parseDescriptor(layer, `layers[${i}]`));
  const pushedLayers = layers.filter((layer) => !(FOREIGN_LAYER_TYPES.has(layer.mediaType) && layer.urls?.length));
  // The image spec: an artifact without artifactType is typed by its config.
  return { ...common, artifactType: artifactType ?? config.mediaType, blobs: [config, ...pushedLayers], children: [] };
}

function parseDescriptor(value: unknown, where: string): Descriptor {
  const d = value as Partial<Descriptor> | null;
  if (typeof d !== "object" || d === null || typeof d.mediaType !== "string" || typeof d.digest !== "string") {
    throw invalid(`${where} is not a valid descriptor`);
  }
  if (typeof d.size !== "number" || !Number.isSafeInteger(d.size) || d.size < 0) throw invalid(`${where} has an invalid size`);
  try {
    parseDigest(d.digest);
  } catch {
    throw invalid(`${where} has an invalid digest`, { digest: d.digest });
  }
  return d as Descriptor;
}

const isStringRecord = (value: unknown): value is Record<string, string> =>
  typeof value === "object" && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === "string");

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
