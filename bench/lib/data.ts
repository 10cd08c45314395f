// Fresh blob data for every push, generated without making the client the bottleneck.
//
// A blob is   head (optional, shared) + the run's random block repeated to `repeatLen`
//           + a tail of fresh random bytes (unique per blob).
// The SHA-256 state after head+repeated part is computed once per (head, length) and
// copied for each blob (Merkle-Damgard: copy() the state, update(tail)), so every push
// has a unique digest that no registry can have seen, at the cost of hashing a few KiB.
// The block is filled by crypto.randomFillSync once per run; bodies are streamed as
// subarrays of it, so generating data costs nothing while sending.
import { createHash, randomBytes, randomFillSync, type Hash } from "node:crypto";

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;
const TAIL = 4096;
// Write size used when streaming a body; with chunked encoding, also the frame size.
// (Go clients such as skopeo frame 32 KiB; BENCH_PIECE_KIB overrides, for diagnosis.)
const PIECE = Number(process.env.BENCH_PIECE_KIB ?? 1024) * 1024;
const SAMPLE = 1024; // bytes of every received chunk compared with what was pushed

export interface Blob {
  size: number;
  digest: string; // "sha256:<hex>"
  /** Chunks of bytes [start, end) of the blob, as views on shared buffers (do not modify). */
  chunks(start?: number, end?: number): Generator<Buffer>;
  /** Compares received bytes at `offset` with the expected content (a sample of each chunk for big blobs). */
  matches(offset: number, data: Buffer): boolean;
}

export class BlobFactory {
  readonly block: Buffer;
  private prefixStates = new Map<string, Hash>();

  constructor(blockSize: number) {
    this.block = randomFillSync(Buffer.allocUnsafe(blockSize));
  }

  /** A blob of `size` bytes: `head`, the repeated block, then a fresh random tail (>= TAIL bytes incl. `tailExtra`). */
  make(size: number, opts: { head?: Buffer; headId?: string; tailExtra?: Buffer } = {}): Blob {
    const head = opts.head ?? Buffer.alloc(0);
    const extra = opts.tailExtra ?? Buffer.alloc(0);
    const fresh = Math.min(TAIL, Math.max(0, size - head.length - extra.length));
    const repeatLen = size - head.length - fresh - extra.length;
    if (repeatLen < 0) throw new Error(`blob of ${size} bytes too small for head/tail`);
    const tail = Buffer.concat([randomBytes(fresh), extra]);
    const digest = "sha256:" + this.prefixState(head, opts.headId ?? "", repeatLen).copy().update(tail).digest("hex");
    return new RepeatedBlob(size, digest, head, this.block, repeatLen, tail);
  }

  /** The block repeated to `size` bytes, no fresh tail and no digest: for client self-checks only. */
  plain(size: number): Blob {
    return new RepeatedBlob(size, "sha256:" + "0".repeat(64), Buffer.alloc(0), this.block, size, Buffer.alloc(0));
  }

  private prefixState(head: Buffer, headId: string, repeatLen: number): Hash {
    const key = `${headId}/${head.length}/${repeatLen}`;
    let state = this.prefixStates.get(key);
    if (!state) {
      state = createHash("sha256").update(head);
      for (let off = 0; off < repeatLen; off += this.block.length) {
        state.update(this.block.subarray(0, Math.min(this.block.length, repeatLen - off)));
      }
      this.prefixStates.set(key, state);
    }
    return state;
  }
}

class RepeatedBlob implements Blob {
  constructor(
    readonly size: number,
    readonly digest: string,
    private head: Buffer,
    private block: Buffer,
    private repeatLen: number,
    private tail: Buffer,
  ) {}

  /** The contiguous regions of the blob, in order: [start offset, buffer]. */
  private *regions(): Generator<[number, Buffer]> {
    if (this.head.length) yield [0, this.head];
    const base = this.head.length;
    for (let off = 0; off < this.repeatLen; off += this.block.length) {
      yield [base + off, this.block.subarray(0, Math.min(this.block.length, this.repeatLen - off))];
    }
    yield [base + this.repeatLen, this.tail];
  }

  *chunks(start = 0, end = this.size): Generator<Buffer> {
    for (const [at, buf] of this.regions()) {
      const from = Math.max(start, at);
      const to = Math.min(end, at + buf.length);
      for (let p = from; p < to; p += PIECE) yield buf.subarray(p - at, Math.min(to, p + PIECE) - at);
    }
  }

  /** Checks a sample (the first SAMPLE bytes) of `data`: catches wrong offsets and wrong content at memcmp cost. */
  matches(offset: number, data: Buffer): boolean {
    const probe = data.subarray(0, SAMPLE);
    let pos = 0;
    for (const chunk of this.chunks(offset, offset + probe.length)) {
      if (!chunk.equals(probe.subarray(pos, pos + chunk.length))) return false;
      pos += chunk.length;
    }
    return pos === probe.length;
  }
}

/** A small blob held in memory (configs, manifests). */
export function smallBlob(bytes: Buffer): Blob {
  const digest = "sha256:" + createHash("sha256").update(bytes).digest("hex");
  return {
    size: bytes.length,
    digest,
    *chunks(start = 0, end = bytes.length) {
      yield bytes.subarray(start, end);
    },
    matches: (offset, data) => data.equals(bytes.subarray(offset, offset + data.length)),
  };
}

/** Single-core SHA-256 speed of node:crypto in MB/s (1e6 bytes), median of 3. */
export function measureSha256(bytes: number, block: Buffer): number {
  const speeds: number[] = [];
  for (let r = 0; r < 3; r++) {
    const h = createHash("sha256");
    const t0 = performance.now();
    for (let done = 0; done < bytes; done += PIECE) h.update(block.subarray(0, Math.min(PIECE, bytes - done)));
    h.digest();
    speeds.push(bytes / 1e6 / ((performance.now() - t0) / 1000));
  }
  return speeds.sort((a, b) => a - b)[1];
}

/** The image config of a one-layer linux/amd64 image, as a small blob. */
export function imageConfig(layer: Blob): Blob {
  return smallBlob(Buffer.from(JSON.stringify({
    architecture: "amd64",
    os: "linux",
    rootfs: { type: "layers", diff_ids: [layer.digest] },
    config: {},
    created: new Date().toISOString(),
  })));
}
