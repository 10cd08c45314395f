/**
 * S3Store (src/storage/s3) against the BlobStore contract on a real S3-compatible server
 * (s3rver in a child process, test/storage/s3rver-main.cjs), plus what only S3 can get wrong: the startup check, the
 * presigned GET, a prefix shared bucket, ranged copies of objects over the copy limit.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { S3Store, type S3StoreOptions } from "../../src/storage/s3/store.ts";
import { planConcat } from "../../src/storage/object-store.ts";
import { describeBlobStoreContract, fingerprint, randomBytes, readAll } from "./contract.ts";
import { S3RVER_CREDENTIALS, startS3rver, type RunningS3rver } from "./s3rver.ts";

let s3: RunningS3rver;
/** A server without UploadPartCopy (s3rver as it ships): concat must stream instead. */
let noCopy: RunningS3rver;
beforeAll(async () => {
  [s3, noCopy] = await Promise.all([startS3rver(["berth-contract"]), startS3rver(["berth-contract"], { copy: false })]);
}, 60_000);
afterAll(async () => {
  await Promise.all([s3?.close(), noCopy?.close()]);
});

let run = 0;
/** A fresh, empty store: a new prefix of the one bucket; cleanup deletes what the test left. */
function freshStore(extra: Partial<S3StoreOptions> = {}, server = () => s3) {
  return async () => {
    const store = new S3Store({ bucket: "berth-contract", endpoint: server().endpoint, ...S3RVER_CREDENTIALS, prefix: `t${++run}/`, ...extra });
    return {
      store,
      cleanup: async () => {
        const { keys } = await store.list("");
        for (const key of keys) await store.delete(key);
      },
    };
  };
}

const MiB = 1024 * 1024;
describeBlobStoreContract("S3Store on s3rver", freshStore(), { largeObjectBytes: 24 * MiB });
// Copy limits of 6 MiB: concat of the contract's 3 x 3 MiB and larger objects goes through
// the planned multipart path: UploadPartCopy of big ranges, reads of small ones.
const small = { limits: { maxSingleCopy: 6 * MiB, maxPartSize: 6 * MiB, maxSinglePut: 6 * MiB } };
describeBlobStoreContract("S3Store on s3rver, small copy limits", freshStore(small), { largeObjectBytes: 24 * MiB });
describeBlobStoreContract("S3Store on s3rver without UploadPartCopy, small copy limits", freshStore(small, () => noCopy), { largeObjectBytes: 24 * MiB });

describe("S3Store on s3rver", () => {
  it("check() passes for a good bucket and names the problem otherwise", async () => {
    await new S3Store({ bucket: "berth-contract", endpoint: s3.endpoint, ...S3RVER_CREDENTIALS }).check();
    await expect(new S3Store({ bucket: "berth-contract", endpoint: s3.endpoint, accessKeyId: "WRONG", secretAccessKey: "S3RVER" }).check()).rejects.toThrow(/refused the credentials \(InvalidAccessKeyId\)/);
    await expect(new S3Store({ bucket: "no-such-bucket", endpoint: s3.endpoint, ...S3RVER_CREDENTIALS }).check()).rejects.toThrow(/"no-such-bucket" .*does not exist/);
    await expect(new S3Store({ bucket: "berth-contract", endpoint: "http://127.0.0.1:1", ...S3RVER_CREDENTIALS }).check()).rejects.toThrow(/cannot reach bucket/);
  });

  it("presignGet only with redirect; the URL serves the object's bytes (and ranges) without credentials", async () => {
    const plain = new S3Store({ bucket: "berth-contract", endpoint: s3.endpoint, ...S3RVER_CREDENTIALS, prefix: "presign/" });
    expect(plain.presignGet).toBeUndefined();
    const store = new S3Store({ bucket: "berth-contract", endpoint: s3.endpoint, ...S3RVER_CREDENTIALS, prefix: "presign/", redirect: true });
    const bytes = randomBytes(300_000);
    await store.put("blobs/x/data", bytes);
    const url = await store.presignGet!("blobs/x/data");
    expect(url).toContain("X-Amz-Signature=");
    expect(url).not.toContain(S3RVER_CREDENTIALS.secretAccessKey + "&");
    const whole = await fetch(url);
    expect(whole.status).toBe(200);
    expect(fingerprint(new Uint8Array(await whole.arrayBuffer()))).toBe(fingerprint(bytes));
    const part = await fetch(url, { headers: { range: "bytes=10-19" } });
    expect(part.status).toBe(206);
    expect(fingerprint(new Uint8Array(await part.arrayBuffer()))).toBe(fingerprint(bytes.subarray(10, 20)));
    // (s3rver checks no signatures beyond the key id, so a tampered URL cannot be tested here.)
    await store.delete("blobs/x/data");
  });

  it("two stores with different prefixes in one bucket never see each other's keys", async () => {
    const a = new S3Store({ bucket: "berth-contract", endpoint: s3.endpoint, ...S3RVER_CREDENTIALS, prefix: "left/" });
    const b = new S3Store({ bucket: "berth-contract", endpoint: s3.endpoint, ...S3RVER_CREDENTIALS, prefix: "left-right/" });
    await a.put("k", new Uint8Array([1]));
    await b.put("k", new Uint8Array([2, 2]));
    expect((await a.list("")).keys).toEqual(["k"]);
    expect((await a.head("k"))?.size).toBe(1);
    expect((await b.head("k"))?.size).toBe(2);
    await a.delete("k");
    expect((await b.head("k"))?.size).toBe(2);
    await b.delete("k");
  });

  for (const [label, server, copies] of [["UploadPartCopy", () => s3, true], ["streamed, where the server lacks UploadPartCopy", () => noCopy, false]] as const) {
    it(`concat over the copy limit (objects larger than a single copy) is exact: ${label}`, async () => {
      const store = new S3Store({ bucket: "berth-contract", endpoint: server().endpoint, ...S3RVER_CREDENTIALS, prefix: "overlimit/", limits: { maxSingleCopy: 5 * MiB, maxPartSize: 5 * MiB, maxSinglePut: 5 * MiB } });
      const big = randomBytes(13 * MiB);
      const tiny = randomBytes(1000);
      await store.put("a", big, { size: big.byteLength });
      await store.put("b", tiny);
      await store.concat(["a"], "one"); // a single source over the copy limit: three ranged copies
      await store.concat(["b", "a", "b"], "three"); // a read part (b + the front of a), copies, a read part
      expect(fingerprint(await readAll((await store.get("one"))!.body))).toBe(fingerprint(big));
      const joined = new Uint8Array([...tiny, ...big, ...tiny]);
      expect(fingerprint(await readAll((await store.get("three"))!.body))).toBe(fingerprint(joined));
      // Which path ran: the store notes a server that answered UploadPartCopy with NotImplemented.
      expect((store as unknown as { copyUnsupported: boolean }).copyUnsupported).toBe(!copies);
      for (const key of ["a", "b", "one", "three"]) await store.delete(key);
    }, 120_000);
  }
});

describe("planConcat (the multipart plan S3 runs with UploadPartCopy)", () => {
  const GiB = 1024 * MiB;
  const covered = (sizes: number[]) => {
    const plan = planConcat(sizes);
    const ranges = plan.flatMap((part) => ("copy" in part ? [part.copy] : part.read));
    // Every byte of every source once, in order.
    let expectSource = 0;
    let expectOffset = 0;
    for (const range of ranges) {
      while (expectSource < sizes.length && expectOffset === sizes[expectSource]) [expectSource, expectOffset] = [expectSource + 1, 0];
      expect([range.source, range.offset]).toEqual([expectSource, expectOffset]);
      expectOffset += range.length;
    }
    const lengths = plan.map((part) => ("copy" in part ? part.copy.length : part.read.reduce((sum, r) => sum + r.length, 0)));
    return { plan, lengths };
  };

  it("copies big sources, reads only small ones, and every part but the last is 5 MiB to 5 GiB", () => {
    for (const sizes of [[12 * GiB], [3, 7 * MiB, 2 * MiB, 1, 6 * GiB, 4 * MiB], [1, 1, 1], [5 * MiB, 5 * MiB], [4 * MiB, 4 * MiB, 4 * MiB]]) {
      const { lengths } = covered(sizes);
      for (const length of lengths.slice(0, -1)) {
        expect(length).toBeGreaterThanOrEqual(5 * MiB);
        expect(length).toBeLessThanOrEqual(5 * GiB);
      }
    }
    const { plan } = covered([12 * GiB]);
    expect(plan.every((part) => "copy" in part)).toBe(true);
    expect(plan.length).toBe(3); // 12 GiB in three copies of 4 GiB
    const mixed = covered([100, 8 * GiB]).plan;
    expect(mixed[0]).toEqual({ read: [{ source: 0, offset: 0, length: 100 }, { source: 1, offset: 0, length: 5 * MiB - 100 }] });
    expect(mixed.slice(1).every((part) => "copy" in part)).toBe(true);
  });
});
