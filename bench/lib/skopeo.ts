// Workload 7: a real client. A one-layer OCI image layout is written offline (an
// uncompressed tar layer holding one file of fresh random data, so skopeo's blob-info
// cache can never skip the upload), then `skopeo copy` pushes it in and pulls it out.
import { execFile } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { once } from "node:events";
import path from "node:path";
import { type Blob, type BlobFactory, imageConfig, smallBlob } from "./data.ts";
import { OCI_MANIFEST } from "./registry.ts";

export function skopeoAvailable(): string | null {
  return existsSync("/usr/bin/skopeo") ? null : "skopeo not installed (apt-get install skopeo)";
}

/** A ustar header for one regular file. */
function tarHeader(name: string, size: number): Buffer {
  const h = Buffer.alloc(512);
  const put = (off: number, len: number, s: string) => h.write(s, off, len, "ascii");
  const octal = (n: number, len: number) => n.toString(8).padStart(len - 1, "0") + "\0";
  put(0, 100, name);
  put(100, 8, octal(0o644, 8));
  put(108, 8, octal(0, 8));
  put(116, 8, octal(0, 8));
  put(124, 12, octal(size, 12));
  put(136, 12, octal(1_700_000_000, 12)); // fixed, so layers of one size share a prefix hash
  put(148, 8, "        ");
  put(156, 1, "0");
  put(257, 6, "ustar\0");
  put(263, 2, "00");
  let sum = 0;
  for (const b of h) sum += b;
  put(148, 8, sum.toString(8).padStart(6, "0") + "\0 ");
  return h;
}

/** Builds a fresh tar layer whose total size is about `bytes`. */
export function makeLayer(factory: BlobFactory, bytes: number): Blob {
  const fileSize = Math.max(8192, bytes - 2048);
  const pad = (512 - (fileSize % 512)) % 512;
  const head = tarHeader("random.bin", fileSize);
  const trailer = Buffer.alloc(pad + 1024);
  return factory.make(512 + fileSize + pad + 1024, { head, headId: `tar:${fileSize}`, tailExtra: trailer });
}

async function writeBlob(dir: string, blob: Blob): Promise<void> {
  const out = createWriteStream(path.join(dir, "blobs", "sha256", blob.digest.slice(7)), { highWaterMark: 4 << 20 });
  for (const c of blob.chunks()) if (!out.write(c)) await once(out, "drain");
  out.end();
  await once(out, "finish");
}

/** Writes an OCI image layout with one image tagged "latest"; returns its directory. */
export async function writeLayout(dir: string, layer: Blob): Promise<string> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.join(dir, "blobs", "sha256"), { recursive: true });
  const config = imageConfig(layer);
  const manifest = smallBlob(Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: config.digest, size: config.size },
    layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: layer.digest, size: layer.size }],
  })));
  for (const b of [layer, config, manifest]) await writeBlob(dir, b);
  writeFileSync(path.join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  writeFileSync(path.join(dir, "index.json"), JSON.stringify({
    schemaVersion: 2,
    manifests: [{
      mediaType: OCI_MANIFEST,
      digest: manifest.digest,
      size: manifest.size,
      annotations: { "org.opencontainers.image.ref.name": "latest" },
    }],
  }));
  return dir;
}

/** Isolated skopeo state: policy, auth file, registries.conf under `dir`. */
export function skopeoEnv(dir: string): { env: NodeJS.ProcessEnv; policy: string } {
  mkdirSync(dir, { recursive: true });
  const policy = path.join(dir, "policy.json");
  writeFileSync(policy, JSON.stringify({ default: [{ type: "insecureAcceptAnything" }] }));
  writeFileSync(path.join(dir, "auth.json"), "{}");
  writeFileSync(path.join(dir, "registries.conf"), "");
  const env = {
    ...process.env,
    REGISTRY_AUTH_FILE: path.join(dir, "auth.json"),
    CONTAINERS_REGISTRIES_CONF: path.join(dir, "registries.conf"),
  };
  return { env, policy };
}

/** Runs `skopeo copy`, returns seconds; throws with skopeo's stderr on failure. */
export function skopeoCopy(ctx: { env: NodeJS.ProcessEnv; policy: string }, args: string[]): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    execFile(
      "/usr/bin/skopeo",
      ["--policy", ctx.policy, "copy", "--quiet", ...args],
      { env: ctx.env, timeout: 600_000, maxBuffer: 16 << 20 },
      (err, _stdout, stderr) => {
        if (err) reject(new Error(`skopeo copy ${args.slice(-2).join(" ")} failed: ${stderr.trim().slice(-600) || err.message}`));
        else resolve((performance.now() - t0) / 1000);
      },
    );
  });
}
