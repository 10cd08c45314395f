// Write OCI image layouts (oci-layout, index.json, blobs/sha256/*) without any
// client: random tar layers (gzip or plain, streamed so 512 MiB is fine),
// image configs, manifests, indexes and artifacts with artifactType + subject.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { tarHeader, TAR_END } from './tar.ts';

export const MT = {
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  index: 'application/vnd.oci.image.index.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  layerTar: 'application/vnd.oci.image.layer.v1.tar',
  empty: 'application/vnd.oci.empty.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
} as const;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { architecture: string; os: string; variant?: string };
  annotations?: Record<string, string>;
  artifactType?: string;
}

export interface LayerFile { name: string; size: number }
export interface Layer { desc: Descriptor; diffId: string; files: Record<string, string> }

export function sha256(data: Buffer | string): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}

export class OciLayout {
  readonly blobsDir: string;
  private refs: Descriptor[] = [];

  constructor(readonly dir: string) {
    this.blobsDir = join(dir, 'blobs', 'sha256');
    mkdirSync(this.blobsDir, { recursive: true });
    writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    this.save();
  }

  blobPath(digest: string): string {
    return join(this.blobsDir, digest.replace(/^sha256:/, ''));
  }

  addBlob(data: Buffer | string, mediaType: string): Descriptor {
    const buf = Buffer.from(data);
    const digest = sha256(buf);
    writeFileSync(this.blobPath(digest), buf);
    return { mediaType, digest, size: buf.length };
  }

  addJson(value: unknown, mediaType: string): Descriptor {
    return this.addBlob(JSON.stringify(value), mediaType);
  }

  /** A tar layer of random files, streamed to disk; returns sha256 of each file's content. */
  async addRandomLayer(files: LayerFile[], gzip = true): Promise<Layer> {
    const tmp = join(this.blobsDir, `.tmp-${randomBytes(6).toString('hex')}`);
    const contentHashes: Record<string, string> = {};
    const diff = createHash('sha256');
    const blob = createHash('sha256');
    let size = 0;
    const tap = (h: ReturnType<typeof createHash>, count: boolean) => new Transform({
      transform(chunk: Buffer, _enc, cb) { h.update(chunk); if (count) size += chunk.length; cb(null, chunk); },
    });
    async function* tarStream() {
      for (const f of files) {
        yield tarHeader(f.name, f.size);
        const h = createHash('sha256');
        for (let left = f.size; left > 0;) {
          const chunk = randomBytes(Math.min(left, 1 << 20));
          h.update(chunk);
          left -= chunk.length;
          yield chunk;
        }
        contentHashes[f.name] = 'sha256:' + h.digest('hex');
        if (f.size % 512) yield Buffer.alloc(512 - (f.size % 512));
      }
      yield TAR_END;
    }
    const stages: NodeJS.ReadWriteStream[] = [tap(diff, false)];
    if (gzip) stages.push(createGzip({ level: 1 }));
    stages.push(tap(blob, true));
    await pipeline(Readable.from(tarStream()), ...stages as [Transform], createWriteStream(tmp));
    const digest = 'sha256:' + blob.digest('hex');
    renameSync(tmp, this.blobPath(digest));
    return {
      desc: { mediaType: gzip ? MT.layerGzip : MT.layerTar, digest, size },
      diffId: 'sha256:' + diff.digest('hex'),
      files: contentHashes,
    };
  }

  /** Config + manifest for the given layers; returns the manifest descriptor. */
  addImage(layers: Layer[], arch = 'amd64', labels: Record<string, string> = {}): Descriptor {
    const config = this.addJson({
      architecture: arch, os: 'linux',
      config: { Labels: { 'berth.e2e': randomBytes(8).toString('hex'), ...labels } },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    }, MT.config);
    const manifest = this.addJson({
      schemaVersion: 2, mediaType: MT.manifest, config, layers: layers.map((l) => l.desc),
    }, MT.manifest);
    return { ...manifest, platform: { architecture: arch, os: 'linux' } };
  }

  addIndex(manifests: Descriptor[]): Descriptor {
    return this.addJson({ schemaVersion: 2, mediaType: MT.index, manifests }, MT.index);
  }

  /** An OCI 1.1 artifact manifest: empty config, one blob, artifactType, subject. */
  addArtifact(artifactType: string, payload: string, subject: Descriptor): Descriptor {
    const config = this.addBlob('{}', MT.empty);
    const layer = this.addBlob(payload, 'text/plain');
    const { mediaType, digest, size } = subject;
    const desc = this.addJson({
      schemaVersion: 2, mediaType: MT.manifest, artifactType, config, layers: [layer],
      subject: { mediaType, digest, size },
      annotations: { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z' },
    }, MT.manifest);
    return { ...desc, artifactType };
  }

  /** Name a manifest or index in index.json (skopeo: oci:DIR:tag). */
  tag(desc: Descriptor, tag: string): void {
    this.refs = this.refs.filter((r) => r.annotations?.['org.opencontainers.image.ref.name'] !== tag);
    const { platform: _p, ...rest } = desc;
    this.refs.push({ ...rest, annotations: { 'org.opencontainers.image.ref.name': tag } });
    this.save();
  }

  private save(): void {
    writeFileSync(join(this.dir, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: MT.index, manifests: this.refs }));
  }
}

/** A one-image layout with `layers` random gzip layers of `size` bytes, tagged `tag`. */
export async function randomImageLayout(dir: string, tag = 'v1', layers = 1, size = 64 * 1024) {
  const layout = new OciLayout(dir);
  const ls: Layer[] = [];
  for (let i = 0; i < layers; i++) ls.push(await layout.addRandomLayer([{ name: `file-${i}.bin`, size }]));
  const manifest = layout.addImage(ls);
  layout.tag(manifest, tag);
  return { layout, manifest, layers: ls };
}
