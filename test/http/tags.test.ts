/**
 * Content discovery: end-8a/end-8b (GET /v2/<name>/tags/list, n and last) and
 * GET /v2/_catalog, both in lexical order with Link: <...>; rel="next" paging.
 */
import { beforeAll, expect, it } from "vitest";
import { describeTargets, useTarget, type Target } from "../targets/index.ts";
import { expectError, expectStatus, nextLink, pushImage, pushManifest, uniqueName } from "./helpers.ts";

/** Byte-wise (UTF-16 code unit) lexical order, as the spec's "ASCIIbetical". */
const lexical = (values: string[]) => [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

async function tagImage(t: Target, name: string, tags: string[]): Promise<void> {
  const image = await pushImage(t, name, tags[0]);
  for (const tag of tags.slice(1)) await pushManifest(t, name, tag, image.manifest);
}

/** Follow Link headers from `path`, returning every page's entries. */
async function collectPages(t: Target, path: string, key: "tags" | "repositories"): Promise<string[][]> {
  const pages: string[][] = [];
  let next: string | null = path;
  while (next) {
    const res = await t.fetch(next);
    await expectStatus(res, 200);
    const page = (await res.json()) as Record<string, string[]>;
    pages.push(page[key] ?? []);
    next = nextLink(res);
    if (pages.length > 50) throw new Error("too many pages");
  }
  return pages;
}

describeTargets("tags", (kind) => {
  const target = useTarget(kind);
  const TAGS = ["v2", "v10", "latest", "Latest", "_private", "1.0", "1.0-rc.1", "a", "z", "V1"];

  it("GET /v2/<name>/tags/list -> 200 {name, tags} in lexical order", async () => {
    const name = uniqueName();
    await tagImage(target(), name, TAGS);
    const res = await target().fetch(`/v2/${name}/tags/list`);
    await expectStatus(res, 200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ name, tags: lexical(TAGS) });
  });

  it("GET /v2/<name>/tags/list?n=3 -> 3 tags and Link: </v2/<name>/tags/list?n=3&last=...>; rel=\"next\"; following Link yields every tag once", async () => {
    const name = uniqueName();
    await tagImage(target(), name, TAGS);
    const first = await target().fetch(`/v2/${name}/tags/list?n=3`);
    await expectStatus(first, 200);
    const body = await first.json();
    expect(body.tags).toEqual(lexical(TAGS).slice(0, 3));
    const link = nextLink(first);
    expect(link).not.toBeNull();
    const url = new URL(link!, "http://x");
    expect(url.pathname).toBe(`/v2/${name}/tags/list`);
    expect(url.searchParams.get("n")).toBe("3");
    expect(url.searchParams.get("last")).toBe(lexical(TAGS)[2]);

    const pages = await collectPages(target(), `/v2/${name}/tags/list?n=3`, "tags");
    expect(pages.flat()).toEqual(lexical(TAGS));
    expect(pages.map((p) => p.length)).toEqual([3, 3, 3, 1]);
  });

  it("GET /v2/<name>/tags/list?n=<count> -> every tag, no Link", async () => {
    const name = uniqueName();
    await tagImage(target(), name, ["a", "b", "c"]);
    const res = await target().fetch(`/v2/${name}/tags/list?n=3`);
    expect((await res.json()).tags).toEqual(["a", "b", "c"]);
    expect(res.headers.get("link")).toBeNull();
    const more = await target().fetch(`/v2/${name}/tags/list?n=100`);
    expect((await more.json()).tags).toEqual(["a", "b", "c"]);
    expect(more.headers.get("link")).toBeNull();
  });

  it("GET /v2/<name>/tags/list?last=<tag> -> only tags after it", async () => {
    const name = uniqueName();
    await tagImage(target(), name, ["a", "b", "c", "d"]);
    const res = await target().fetch(`/v2/${name}/tags/list?last=b`);
    expect((await res.json()).tags).toEqual(["c", "d"]);
    const between = await target().fetch(`/v2/${name}/tags/list?n=1&last=bb`);
    expect((await between.json()).tags).toEqual(["c"]);
    const end = await target().fetch(`/v2/${name}/tags/list?last=d`);
    await expectStatus(end, 200);
    expect((await end.json()).tags).toEqual([]);
    expect(end.headers.get("link")).toBeNull();
  });

  it("GET /v2/<name>/tags/list?n=0 -> empty list, no Link", async () => {
    const name = uniqueName();
    await tagImage(target(), name, ["a", "b"]);
    const res = await target().fetch(`/v2/${name}/tags/list?n=0`);
    await expectStatus(res, 200);
    expect((await res.json()).tags).toEqual([]);
    expect(res.headers.get("link")).toBeNull();
  });

  for (const n of ["-1", "abc", "1.5"]) {
    it(`GET /v2/<name>/tags/list?n=${n} -> 400`, async () => {
      const name = uniqueName();
      await tagImage(target(), name, ["a"]);
      const res = await target().fetch(`/v2/${name}/tags/list?n=${n}`);
      expect(res.status).toBe(400);
      await res.body?.cancel();
    });
  }

  it("GET /v2/<name>/tags/list of an unknown repository -> 404 NAME_UNKNOWN", async () => {
    await expectError(await target().fetch(`/v2/${uniqueName()}/tags/list`), 404, "NAME_UNKNOWN");
  });

  it("GET /v2/<name>/tags/list lists only tags, not manifests pushed by digest", async () => {
    const name = uniqueName();
    await pushImage(target(), name, "only");
    await pushImage(target(), name); // by digest
    expect((await (await target().fetch(`/v2/${name}/tags/list`)).json()).tags).toEqual(["only"]);
  });

  it("GET /v2/<name>/tags/list of a multi-component name -> 200, tags of that repository only", async () => {
    const parent = uniqueName();
    const child = `${parent}/deeper/still`;
    await tagImage(target(), parent, ["p"]);
    await tagImage(target(), child, ["c1", "c2"]);
    expect(await (await target().fetch(`/v2/${child}/tags/list`)).json()).toEqual({ name: child, tags: ["c1", "c2"] });
    expect(await (await target().fetch(`/v2/${parent}/tags/list`)).json()).toEqual({ name: parent, tags: ["p"] });
  });

  it("GET /v2/<name>/tags/list with 128-character tags -> 200", async () => {
    const name = uniqueName();
    const long = "t" + "x".repeat(127);
    await tagImage(target(), name, [long]);
    expect((await (await target().fetch(`/v2/${name}/tags/list`)).json()).tags).toEqual([long]);
  });
});

describeTargets("catalog", (kind) => {
  // A fresh registry: the catalog sees only these repositories.
  const target = useTarget(kind);
  // Lexical order puts "-" and "." before "/" before digits: a key layout of <name>/<leaf>
  // sorted as keys would get this wrong.
  const REPOS = ["a", "a-b", "a.b", "a/b", "a/b/c", "a0", "b", "lib/alpine", "lib_x", "z/y/x/w"];
  beforeAll(async () => {
    for (const name of REPOS) await pushImage(target(), name, "v1");
  }, 60_000);

  it("GET /v2/_catalog -> 200 {repositories} in lexical order", async () => {
    const res = await target().fetch("/v2/_catalog");
    await expectStatus(res, 200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ repositories: lexical(REPOS) });
  });

  it("GET /v2/_catalog?n=3 -> Link: </v2/_catalog?n=3&last=...>; rel=\"next\"; following Link yields every repository once", async () => {
    const first = await target().fetch("/v2/_catalog?n=3");
    await expectStatus(first, 200);
    expect((await first.json()).repositories).toEqual(lexical(REPOS).slice(0, 3));
    const url = new URL(nextLink(first)!, "http://x");
    expect(url.pathname).toBe("/v2/_catalog");
    expect(url.searchParams.get("n")).toBe("3");
    expect(url.searchParams.get("last")).toBe(lexical(REPOS)[2]);
    const pages = await collectPages(target(), "/v2/_catalog?n=3", "repositories");
    expect(pages.flat()).toEqual(lexical(REPOS));
  });

  it("GET /v2/_catalog?last=a/b -> repositories after it, lexically", async () => {
    const res = await target().fetch("/v2/_catalog?last=a/b");
    const sorted = lexical(REPOS);
    expect((await res.json()).repositories).toEqual(sorted.slice(sorted.indexOf("a/b") + 1));
  });

  it("GET /v2/_catalog?n=<all> -> no Link; ?n=0 -> empty", async () => {
    const all = await target().fetch(`/v2/_catalog?n=${REPOS.length}`);
    expect((await all.json()).repositories).toEqual(lexical(REPOS));
    expect(all.headers.get("link")).toBeNull();
    const none = await target().fetch("/v2/_catalog?n=0");
    expect((await none.json()).repositories).toEqual([]);
    expect(none.headers.get("link")).toBeNull();
  });

  it("GET /v2/_catalog?n=abc -> 400", async () => {
    const res = await target().fetch("/v2/_catalog?n=abc");
    expect(res.status).toBe(400);
    await res.body?.cancel();
  });
});
