import { describe, expect, it } from "vitest";
import { BoundedCache, ByteCache } from "../src/byte-cache.ts";

describe("BoundedCache (every in-process cache: bounded by bytes, least recently used out first)", () => {
  it("evicts the least recently used entries once the estimated bytes pass the bound", () => {
    const cache = new BoundedCache<number>(1000, () => 100);
    for (let i = 0; i < 10; i++) cache.set(`k${i}`, i);
    expect(cache.heldBytes).toBe(1000);
    cache.get("k0"); // used: k1 is now the oldest
    cache.set("k10", 10);
    expect(cache.get("k1")).toBeUndefined();
    expect(cache.get("k0")).toBe(0);
    expect(cache.size).toBe(10);
    expect(cache.heldBytes).toBe(1000);
  });

  it("keeps many small entries and few big ones under the same bound", () => {
    const cache = new BoundedCache<string>(10_000, (_key, value) => value.length);
    for (let i = 0; i < 1000; i++) cache.set(`s${i}`, "x".repeat(10));
    expect(cache.size).toBe(1000);
    for (let i = 0; i < 10; i++) cache.set(`b${i}`, "y".repeat(2000));
    expect(cache.heldBytes).toBeLessThanOrEqual(10_000);
    expect(cache.size).toBeLessThan(10);
  });

  it("does not keep an entry over a quarter of the bound; replacing a key counts it once", () => {
    const cache = new BoundedCache<string>(1000, (_key, value) => value.length);
    cache.set("big", "z".repeat(251));
    expect(cache.get("big")).toBeUndefined();
    cache.set("a", "z".repeat(200));
    cache.set("a", "z".repeat(100));
    expect(cache.heldBytes).toBe(100);
    cache.delete("a");
    expect(cache.heldBytes).toBe(0);
  });

  it("ByteCache keeps the first bytes stored under a digest (content-addressed: they never change)", () => {
    const cache = new ByteCache(1 << 20);
    cache.set("sha256:a", new Uint8Array([1]));
    cache.set("sha256:a", new Uint8Array([2]));
    expect(cache.get("sha256:a")).toEqual(new Uint8Array([1]));
  });
});
