/**
 * What the UI shows of a manifest that the OCI API does not say: its size (the layers it
 * pulls), its platforms, when its image was created. Read from the stored manifest and
 * config; every read is bounded (manifests by the PUT limit, configs by CONFIG_LIMIT).
 */
import { BoundedCache, stringBytes } from "../bounded-cache.ts";
import type { Context } from "../context.ts";
import { parseDigest } from "../digest.ts";
import { isIndexType } from "../media-types.ts";
import { blobKey } from "../paths.ts";
import { statLinkedBlob } from "../repository.ts";
import { readManifestBytes } from "../routes/manifests.ts";
import { readBytes } from "../streams.ts";

const CONFIG_LIMIT = 1024 * 1024;
/** Children of an index read to sum its size; a bigger index shows the size of these. */
const CHILD_LIMIT = 32;

export interface Platform {
  os?: string;
  architecture?: string;
  variant?: string;
}

export interface ManifestSummary {
  /** Bytes a pull fetches: the sum of the (distinct) layers, of every child for an index. */
  size: number;
  /** Layer digest -> size, for telling which bytes tags share. */
  layers: Map<string, number>;
  platforms?: Platform[];
  created?: string;
  configDigest?: string;
}

export type Json = Record<string, unknown>;

export async function readManifestJson(ctx: Context, digest: string): Promise<{ raw: string; json: Json } | null> {
  try {
    const raw = new TextDecoder().decode(await readManifestBytes(ctx, parseDigest(digest)));
    return { raw, json: JSON.parse(raw) as Json };
  } catch {
    return null; // removed meanwhile, or not JSON: the UI shows what it has
  }
}

/** The image config of a manifest, parsed, when it is JSON, small and in the repository. */
export async function readConfig(ctx: Context, name: string, manifest: Json): Promise<Json | null> {
  const config = manifest.config as { digest?: string; size?: number; mediaType?: string } | undefined;
  if (!config?.digest || typeof config.size !== "number" || config.size > CONFIG_LIMIT) return null;
  try {
    const digest = parseDigest(config.digest);
    if ((await statLinkedBlob(ctx, name, digest)) === null) return null;
    const object = await ctx.store.get(blobKey(digest));
    if (!object) return null;
    const json = JSON.parse(new TextDecoder().decode(await readBytes(object))) as unknown;
    return typeof json === "object" && json !== null && !Array.isArray(json) ? (json as Json) : null;
  } catch {
    return null; // an artifact's config need not be JSON
  }
}

const descriptors = (value: unknown) =>
  (Array.isArray(value) ? value : []) as { digest: string; size: number; mediaType?: string; platform?: Platform }[];

export function platformsOf(index: Json): Platform[] {
  return descriptors(index.manifests).flatMap((child) => (child.platform ? [child.platform] : []));
}

/** Size, layers, platforms and creation time of a manifest; configs are cached by digest. */
export async function summarizeManifest(ctx: Context, name: string, digest: string, cache: ConfigFactsCache): Promise<ManifestSummary> {
  const manifest = await readManifestJson(ctx, digest);
  const layers = new Map<string, number>();
  if (!manifest) return { size: 0, layers };
  const { json } = manifest;
  if (isIndexType(String(json.mediaType ?? "")) || Array.isArray(json.manifests)) {
    for (const child of descriptors(json.manifests).slice(0, CHILD_LIMIT)) {
      const childJson = (await readManifestJson(ctx, child.digest))?.json;
      for (const layer of descriptors(childJson?.layers)) layers.set(layer.digest, layer.size);
    }
    return { size: sum(layers), layers, platforms: platformsOf(json) };
  }
  for (const layer of descriptors(json.layers)) layers.set(layer.digest, layer.size);
  const configDigest = (json.config as { digest?: string } | undefined)?.digest;
  let facts = configDigest ? cache.get(configDigest) : undefined;
  if (configDigest && facts === undefined) {
    facts = factsOf(await readConfig(ctx, name, json));
    cache.set(configDigest, facts);
  }
  return { size: sum(layers), layers, created: facts?.created, platforms: facts?.platform && [facts.platform], configDigest };
}

/** What a tag row shows of an image config. */
export interface ConfigFacts {
  created?: string;
  platform?: Platform;
}

function factsOf(config: Json | null): ConfigFacts {
  const text = (key: string) => (typeof config?.[key] === "string" ? (config[key] as string) : undefined);
  const platform = text("os") || text("architecture") ? { os: text("os"), architecture: text("architecture"), variant: text("variant") } : undefined;
  return { created: text("created"), platform };
}

const sum = (layers: Map<string, number>) => [...layers.values()].reduce((total, size) => total + size, 0);

/** Config facts by config digest (immutable content, so a cache that is never wrong); 4 MiB. */
export class ConfigFactsCache extends BoundedCache<ConfigFacts> {
  constructor() {
    super(4 * 1024 * 1024, (digest, facts) => stringBytes(digest) + 96 + JSON.stringify(facts).length);
  }
}
