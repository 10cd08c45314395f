/** The one in-memory cache: bounded by bytes (not entries), least recently used out first. */
import { describe, expect, it } from "vitest";
import { BoundedCache } from "../src/bounded-cache.ts";

const bytesOf = (_key: string, value: string) => value.length;

describe("BoundedCache", () => {
  it("keeps entries while their sizes fit, then drops the least recently used first", () => {
    const cache = new BoundedCache<string>(100, bytesOf);
    cache.set("a", "x".repeat(25));
    cache.set("b", "x".repeat(25));
    cache.set("c", "x".repeat(25));
    expect(cache.get("a")).toHaveLength(25); // a is now the most recently used
    cache.set("d", "x".repeat(25)); // 100 bytes: all fit
    cache.set("e", "x".repeat(25)); // 125: b (least recently used) goes
    expect([..."abcde"].map((key) => cache.get(key) !== undefined)).toEqual([true, false, true, true, true]);
  });

  it("a key got again and again stays the most recently used, also after the newest entry was deleted or evicted", () => {
    const cache = new BoundedCache<string>(100, bytesOf);
    for (const key of "abcd") cache.set(key, "x".repeat(25));
    for (let i = 0; i < 3; i++) expect(cache.get("a")).toBeDefined(); // a goes last once, then stays there
    cache.set("e", "x".repeat(25)); // b is now the oldest
    expect([..."abcde"].map((key) => cache.has(key))).toEqual([true, false, true, true, true]);
    cache.delete("e"); // the newest, deleted: getting c must move it last
    expect(cache.get("c")).toBeDefined();
    cache.set("f", "x".repeat(25));
    cache.set("g", "x".repeat(25)); // over by one: d, the oldest now, goes
    expect([..."acdfg"].map((key) => cache.has(key))).toEqual([true, true, false, true, true]);
  });

  it("many small entries are bounded by their bytes, not their count", () => {
    const cache = new BoundedCache<string>(1000, bytesOf);
    for (let i = 0; i < 10_000; i++) cache.set(`k${i}`, "x".repeat(10));
    const kept = Array.from({ length: 10_000 }, (_, i) => cache.get(`k${i}`)).filter(Boolean).length;
    expect(kept).toBe(100);
    expect(cache.get("k9999")).toBeDefined();
  });

  it("an entry bigger than a quarter of the bound is not kept; replacing an entry recounts its bytes", () => {
    const cache = new BoundedCache<string>(100, bytesOf);
    cache.set("big", "x".repeat(26));
    expect(cache.get("big")).toBeUndefined();
    cache.set("a", "x".repeat(25));
    for (let i = 0; i < 10; i++) cache.set("a", "y".repeat(25)); // counted once, not ten times
    cache.set("b", "x".repeat(25));
    cache.set("c", "x".repeat(25));
    cache.set("d", "x".repeat(25));
    expect(cache.get("a")).toBe("y".repeat(25));
    cache.delete("a");
    expect(cache.get("a")).toBeUndefined();
  });
});
