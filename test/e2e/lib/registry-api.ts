// Direct HTTP checks against the registry, to confirm what a client claims.
import { createHash } from 'node:crypto';
import { e2eFetch } from './fetch-ca.ts';
import { MT } from './oci-layout.ts';

const ALL_MANIFESTS = [MT.manifest, MT.index, MT.dockerManifest, MT.dockerList].join(', ');

export interface Fetched { status: number; headers: Headers; body: Buffer }

export class RegistryApi {
  constructor(readonly url: string, private auth?: { user: string; password: string }) {}

  async request(path: string, init: RequestInit = {}): Promise<Fetched> {
    const headers = new Headers(init.headers);
    if (this.auth) headers.set('Authorization', 'Basic ' + Buffer.from(`${this.auth.user}:${this.auth.password}`).toString('base64'));
    const res = await e2eFetch(this.url + path, { ...init, headers });
    return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
  }

  manifest(repo: string, ref: string, method = 'GET'): Promise<Fetched> {
    return this.request(`/v2/${repo}/manifests/${ref}`, { method, headers: { Accept: ALL_MANIFESTS } });
  }

  async manifestJson(repo: string, ref: string): Promise<any> {
    const r = await this.manifest(repo, ref);
    if (r.status !== 200) throw new Error(`GET /v2/${repo}/manifests/${ref} -> ${r.status} ${r.body.toString().slice(0, 300)}`);
    return JSON.parse(r.body.toString());
  }

  blob(repo: string, digest: string, method = 'GET'): Promise<Fetched> {
    return this.request(`/v2/${repo}/blobs/${digest}`, { method });
  }

  /** Streams a blob and returns its sha256 digest and length (for big layers). */
  async blobDigest(repo: string, digest: string): Promise<{ status: number; digest: string; size: number }> {
    const res = await e2eFetch(`${this.url}/v2/${repo}/blobs/${digest}`);
    const h = createHash('sha256');
    let size = 0;
    const reader = res.body?.getReader();
    for (let r = await reader?.read(); r && !r.done; r = await reader!.read()) { h.update(r.value); size += r.value.length; }
    return { status: res.status, digest: 'sha256:' + h.digest('hex'), size };
  }

  async tags(repo: string): Promise<string[]> {
    const r = await this.request(`/v2/${repo}/tags/list`);
    if (r.status !== 200) throw new Error(`GET /v2/${repo}/tags/list -> ${r.status}`);
    return JSON.parse(r.body.toString()).tags ?? [];
  }

  /** Manifest `ref` resolves to `digest`, and every blob it references streams back intact. */
  async expectIntact(repo: string, ref: string, digest: string): Promise<void> {
    const m = await this.manifest(repo, ref);
    if (m.status !== 200 || m.headers.get('docker-content-digest') !== digest || digestOf(m.body) !== digest) {
      throw new Error(`${repo}:${ref} -> ${m.status} ${m.headers.get('docker-content-digest')}, expected ${digest}`);
    }
    const doc = JSON.parse(m.body.toString());
    for (const d of [doc.config, ...(doc.layers ?? [])]) {
      const got = await this.blobDigest(repo, d.digest);
      if (got.status !== 200 || got.digest !== d.digest || got.size !== d.size) {
        throw new Error(`${repo} blob ${d.digest}: ${JSON.stringify(got)}, expected size ${d.size}`);
      }
    }
  }

  referrers(repo: string, digest: string, artifactType?: string): Promise<Fetched> {
    const q = artifactType ? `?artifactType=${encodeURIComponent(artifactType)}` : '';
    return this.request(`/v2/${repo}/referrers/${digest}${q}`);
  }
}

export function digestOf(data: Buffer | string): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}

/** Random repository path segment, so suites never collide on a shared server. */
export function uniqueRepo(prefix: string): string {
  return `e2e/${prefix}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}
