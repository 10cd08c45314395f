/**
 * `berth du`: bytes per repository (every blob it links and every manifest it holds), what
 * only that repository holds, bytes shared by several (counted once in the total), garbage.
 */
import { BLOBS_PREFIX, digestTextOfBlobKey, digestTextOfLinkKey, layersPrefix, UPLOADS_PREFIX } from "../paths.ts";
import type { BlobStore } from "../storage/blob-store.ts";
import { listKeys, listRepositories, listRevisionDigests } from "./walk.ts";

export interface UsageReport {
  repositories: { name: string; bytes: number; exclusiveBytes: number }[];
  sharedBytes: number;
  unreferencedBytes: number;
  uploadBytes: number;
  /** Blobs and upload sessions: what the store holds. */
  totalBytes: number;
  blobs: number;
}

export async function measureUsage(store: BlobStore): Promise<UsageReport> {
  const sizes = new Map<string, number>();
  for (const key of await listKeys(store, BLOBS_PREFIX)) {
    const digest = digestTextOfBlobKey(key);
    const stat = digest && key.endsWith("/data") ? await store.head(key) : null;
    if (stat) sizes.set(digest!, stat.size);
  }
  const holders = new Map<string, number>();
  const perRepo: { name: string; digests: Set<string> }[] = [];
  for (const name of await listRepositories(store)) {
    const digests = new Set<string>(await listRevisionDigests(store, name));
    for (const key of await listKeys(store, layersPrefix(name))) {
      const digest = digestTextOfLinkKey(key);
      if (digest) digests.add(digest);
    }
    for (const digest of [...digests]) if (sizes.has(digest)) holders.set(digest, (holders.get(digest) ?? 0) + 1);
    perRepo.push({ name, digests });
  }
  const sum = (digests: Iterable<string>) => [...digests].reduce((total, d) => total + (sizes.get(d) ?? 0), 0);
  let uploadBytes = 0;
  for (const key of await listKeys(store, UPLOADS_PREFIX)) uploadBytes += (await store.head(key))?.size ?? 0;
  const blobBytes = sum(sizes.keys());
  return {
    repositories: perRepo.map(({ name, digests }) => ({ name, bytes: sum(digests), exclusiveBytes: sum([...digests].filter((d) => holders.get(d) === 1)) })),
    sharedBytes: sum([...holders].filter(([, count]) => count > 1).map(([d]) => d)),
    unreferencedBytes: sum([...sizes.keys()].filter((d) => !holders.has(d))),
    uploadBytes,
    totalBytes: blobBytes + uploadBytes,
    blobs: sizes.size,
  };
}
