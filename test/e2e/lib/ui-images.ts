// Images for the UI tests, pushed over the HTTP API (monolithic uploads, then manifests):
// a two-platform index, an image with a signature-like referrer, and many-tag repositories.
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { MT, sha256 } from './oci-layout.ts';
import { tarHeader, TAR_END } from './tar.ts';

export class Pusher {
  constructor(readonly url: string, private authorization?: string) {}

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return this.authorization ? { Authorization: this.authorization, ...extra } : extra;
  }

  async blob(repo: string, data: Buffer, mediaType: string) {
    const digest = sha256(data);
    const r = await fetch(`${this.url}/v2/${repo}/blobs/uploads/?digest=${digest}`, { method: 'POST', body: new Uint8Array(data), headers: this.headers({ 'Content-Type': 'application/octet-stream' }) });
    if (r.status !== 201) throw new Error(`POST blob ${repo} -> ${r.status} ${await r.text()}`);
    return { mediaType, digest, size: data.length };
  }

  /** PUT a manifest under `ref`, or under its own digest when `ref` is null. */
  async manifest(repo: string, ref: string | null, manifest: object) {
    const body = Buffer.from(JSON.stringify(manifest));
    ref ??= sha256(body);
    const type = (manifest as { mediaType: string }).mediaType;
    const r = await fetch(`${this.url}/v2/${repo}/manifests/${ref}`, { method: 'PUT', body: new Uint8Array(body), headers: this.headers({ 'Content-Type': type }) });
    if (r.status !== 201) throw new Error(`PUT manifest ${repo}:${ref} -> ${r.status} ${await r.text()}`);
    return { mediaType: type, digest: sha256(body), size: body.length };
  }

  /** An image with one random gzip layer and a config with the settings the UI shows. */
  async image(repo: string, ref: string | null, platform = { os: 'linux', architecture: 'amd64' } as { os: string; architecture: string; variant?: string }, layers: Buffer[] = [randomLayer()]) {
    const descriptors = [];
    for (const layer of layers) descriptors.push(await this.blob(repo, layer, MT.layerGzip));
    const config = {
      created: '2026-11-30T12:00:00Z', author: 'Berth tests', ...platform,
      config: { Env: ['PATH=/usr/bin:/bin', 'GREETING=hello'], Entrypoint: ['/bin/hello'], Cmd: ['--loud'], Labels: { 'org.opencontainers.image.title': 'hello' } },
      rootfs: { type: 'layers', diff_ids: layers.map(() => sha256(randomBytes(8))) },
      history: [{ created: '2026-11-30T12:00:00Z', created_by: 'COPY hello /bin/hello # buildkit' }, { created: '2026-11-30T12:00:01Z', created_by: 'ENTRYPOINT ["/bin/hello"]', empty_layer: true }],
    };
    const configDesc = await this.blob(repo, Buffer.from(JSON.stringify(config)), MT.config);
    return this.manifest(repo, ref, { schemaVersion: 2, mediaType: MT.manifest, config: configDesc, layers: descriptors, annotations: { 'org.opencontainers.image.source': 'https://example.com/hello' } });
  }

  /** A linux/amd64 + linux/arm64/v8 index under `tag`. */
  async multiArch(repo: string, tag: string) {
    const amd64 = await this.image(repo, null, { os: 'linux', architecture: 'amd64' });
    const arm64 = await this.image(repo, null, { os: 'linux', architecture: 'arm64', variant: 'v8' });
    return this.manifest(repo, tag, {
      schemaVersion: 2, mediaType: MT.index,
      manifests: [{ ...amd64, platform: { os: 'linux', architecture: 'amd64' } }, { ...arm64, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } }],
    });
  }

  /** A signature-like artifact whose subject is `subject`. */
  async signature(repo: string, subject: { mediaType: string; digest: string; size: number }) {
    const empty = await this.blob(repo, Buffer.from('{}'), MT.empty);
    const payload = await this.blob(repo, Buffer.from(JSON.stringify({ critical: { image: { 'docker-manifest-digest': subject.digest } } })), 'application/vnd.dev.cosign.simplesigning.v1+json');
    const manifest = {
      schemaVersion: 2, mediaType: MT.manifest, artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json',
      config: empty, layers: [payload], subject, annotations: { 'dev.sigstore.cosign/signature': 'MEUCIQ-test' },
    };
    return this.manifest(repo, null, manifest);
  }
}

export function randomLayer(bytes = 2048): Buffer {
  const content = randomBytes(bytes);
  return gzipSync(Buffer.concat([tarHeader('hello', content.length), content, Buffer.alloc((512 - (content.length % 512)) % 512), TAR_END]));
}
