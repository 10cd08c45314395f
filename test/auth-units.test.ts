/**
 * Pieces of src/auth checked directly: policy globs and grants (the union of rules), and the
 * signing key shared through the store when two registries start on one store at once.
 */
import bcrypt from "bcryptjs";
import { describe, expect, it } from "vitest";
import { createRegistry } from "../src/handler.ts";
import { globToRegExp, parsePolicy } from "../src/auth/policy.ts";
import { MemoryStore } from "../src/storage/memory.ts";

describe("policy globs", () => {
  const cases: [string, string[], string[]][] = [
    ["team/*", ["team/a", "team/app-1"], ["team", "team/a/b", "teams/a"]],
    ["team/**", ["team", "team/a", "team/a/b/c"], ["teams/a", "other/team/a"]],
    ["**", ["a", "a/b/c"], []],
    ["**/cache", ["cache", "x/cache", "x/y/cache"], ["x/cached", "cache/x"]],
    ["a/**/b", ["a/b", "a/x/b", "a/x/y/b"], ["a/xb", "b", "a/b/c"]],
    ["apps/*-ci", ["apps/web-ci", "apps/-ci"], ["apps/web", "apps/web-ci/x", "apps/a/b-ci"]],
    ["a.b/c", ["a.b/c"], ["aXb/c"]],
  ];
  for (const [glob, yes, no] of cases) {
    it(`${glob} matches ${yes.join(", ")}; not ${no.join(", ") || "-"}`, () => {
      const regex = globToRegExp(glob);
      for (const name of yes) expect(regex.test(name), name).toBe(true);
      for (const name of no) expect(regex.test(name), name).toBe(false);
    });
  }

  it("bad globs are refused: uppercase, leading or double slash, a/**b, **/**", () => {
    for (const glob of ["Team/*", "/a", "a//b", "a/**b", "**/**", "a/"]) expect(() => globToRegExp(glob), glob).toThrow(/glob|component/);
  });
});

describe("policy grants", () => {
  const policy = parsePolicy({
    groups: { admins: ["alice"], ops: ["carol", "alice"] },
    rules: [
      { repositories: ["public/**"], anonymous: true, actions: ["pull"] },
      { repositories: ["team/**"], groups: ["admins"], actions: ["push"] },
      { repositories: ["team/**"], groups: ["ops"], actions: ["pull", "delete"] },
      { repositories: ["**"], users: ["*"], actions: ["pull"] },
    ],
  });
  const actions = (user: string | null, repo: string) => [...policy.actionsFor(user, repo)].sort();

  it("the union of every matching rule; anonymous rules apply to users too; no match, nothing", () => {
    expect(actions("alice", "team/x")).toEqual(["delete", "pull", "push"]);
    expect(actions("carol", "team/x")).toEqual(["delete", "pull"]);
    expect(actions("bob", "team/x")).toEqual(["pull"]);
    expect(actions(null, "team/x")).toEqual([]);
    expect(actions(null, "public/x")).toEqual(["pull"]);
    expect(actions("bob", "public/x")).toEqual(["pull"]);
  });
});

describe("signing key in the store", () => {
  it("two registries starting on one store at once: each verifies the other's tokens", async () => {
    const store = new MemoryStore();
    const htpasswd = `alice:${bcrypt.hashSync("pw", 4)}\n`;
    const [a, b] = [createRegistry({ store, auth: { htpasswd } }), createRegistry({ store, auth: { htpasswd } })];
    const auth = { Authorization: `Basic ${btoa("alice:pw")}` };
    const tokenFrom = async (r: typeof a) => ((await (await r.fetch(new Request("http://x/auth/token?service=berth", { headers: auth }))).json()) as { token: string }).token;
    const [ta, tb] = await Promise.all([tokenFrom(a), tokenFrom(b)]);
    for (const [registry, token] of [[a, tb], [b, ta], [a, ta], [b, tb]] as const) {
      const res = await registry.fetch(new Request("http://x/v2/", { headers: { Authorization: `Bearer ${token}` } }));
      expect(res.status).toBe(200);
    }
    const keys = await store.list("auth/signing-keys/");
    expect(keys.keys.length).toBeGreaterThanOrEqual(1);
    expect(keys.keys.length).toBeLessThanOrEqual(2);
  });

  it("a key another process stored after this one started (and that sorts first) verifies at once", async () => {
    const store = new MemoryStore();
    const htpasswd = `alice:${bcrypt.hashSync("pw", 4)}\n`;
    const first = createRegistry({ store, auth: { htpasswd } });
    const auth = { Authorization: `Basic ${btoa("alice:pw")}` };
    const tokenFrom = async (r: typeof first) => ((await (await r.fetch(new Request("http://x/auth/token?service=berth", { headers: auth }))).json()) as { token: string }).token;
    const kidOf = (token: string) => (JSON.parse(atob(token.split(".")[0]!.replace(/-/g, "+").replace(/_/g, "/"))) as { kid: string }).kid;
    const mine = kidOf(await tokenFrom(first));
    // The other process's key: one whose kid sorts before ours, so the newcomer signs with it.
    let other: { kid: string; jwk: JsonWebKey };
    do {
      const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
      const jwk = (await crypto.subtle.exportKey("jwk", pair.privateKey)) as JsonWebKey;
      const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })));
      other = { kid: Buffer.from(digest).toString("base64url"), jwk };
    } while (other.kid >= mine);
    await store.put(`auth/signing-keys/k-${other.kid}.json`, new TextEncoder().encode(JSON.stringify(other.jwk)));
    const second = createRegistry({ store, auth: { htpasswd } });
    const token = await tokenFrom(second);
    expect(kidOf(token)).toBe(other.kid);
    const res = await first.fetch(new Request("http://x/v2/", { headers: { Authorization: `Bearer ${token}` } }));
    expect(res.status).toBe(200);
  });
});

describe("the route table", () => {
  it("refuses rows it could not authorize: a second handler (middleware), or no :name and no access", async () => {
    const { RouteTable } = await import("../src/routing.ts");
    const table = new RouteTable();
    const ok = async () => new Response(null);
    expect(() => (table.get as (...a: unknown[]) => unknown)("/v2/:name+/x", ok, ok)).toThrow("access is not a middleware");
    expect(() => table.get("/healthz", ok)).toThrow("no :name to derive its access from");
    table.get("/healthz", { access: "none" }, ok);
    table.get("/v2/:name+/x", ok);
    expect(table.rows.map((row) => [row.method, row.pattern, row.access])).toEqual([["GET", "/healthz", "none"], ["GET", "/v2/:name+/x", undefined]]);
  });
});

describe("createRegistry with bad auth sources", () => {
  const htpasswd = `alice:${bcrypt.hashSync("pw", 4)}\n`;
  it("a bad htpasswd, policy object or JSON policy text throws from createRegistry, naming the source", () => {
    const store = new MemoryStore();
    expect(() => createRegistry({ store, auth: { htpasswd: "alice:not-a-bcrypt-hash\n" } })).toThrow(/^htpasswd: /);
    expect(() => createRegistry({ store, auth: { htpasswd, policy: { rules: "all" } } })).toThrow(/^policy: /);
    expect(() => createRegistry({ store, auth: { htpasswd, policy: `{"rules":[{"repositories":["a/**"],"actions":["fly"]}]}` } })).toThrow(/^policy: /);
  });

  it("bad YAML policy text (parsed on first use) fails requests with a 500 and the reason in the log, never passes them", async () => {
    const registry = createRegistry({ store: new MemoryStore(), auth: { htpasswd, policy: "rules:\n  - repositories: [\"a/**\"]\n    actions: [fly]\n" } });
    const res = await registry.fetch(new Request("http://registry.test/v2/", { headers: { Authorization: `Basic ${btoa("alice:pw")}` } }));
    expect(res.status).toBe(500);
  });
});
