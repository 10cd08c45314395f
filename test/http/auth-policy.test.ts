/**
 * Token verification and the policy: tokens the registry must refuse (expired past the 60 s
 * leeway, wrong signature, alg none, another service or issuer, another repository), tokens
 * of a configured signing key, the catalog filtered to what the caller may pull, policy globs
 * (`*` one component, `**` any), and reloading htpasswd and policy (changed files, SIGHUP,
 * a broken file keeps the old).
 */
import { createPublicKey } from "node:crypto";
import { expect, it } from "vitest";
import { describeTargets, useTarget } from "../targets/index.ts";
import { expectError, expectStatus, pushImage, uniqueName } from "./helpers.ts";
import { as, basic, bearer, challengeOf, claims, decodePart, EXAMPLE_POLICY, getToken, HTPASSWD, htpasswdOf, makeKey, mint, thumbprintOf, USERS } from "./token-helpers.ts";

const KEY = makeKey();
const OTHER_KEY = makeKey();
/** Minted as Berth mints: kid = the key's thumbprint. */
const mintWith = (key: ReturnType<typeof makeKey>, body: Record<string, unknown>, header: Record<string, unknown> = {}) => mint(key.key, body, { kid: thumbprintOf(key.jwk), ...header });

describeTargets("auth tokens: verification (configured signing key)", (kind) => {
  const target = useTarget(kind, { auth: { htpasswd: HTPASSWD, policy: EXAMPLE_POLICY, token: { signingKey: KEY.pem } } });
  const pull = (name: string) => [{ type: "repository", name, actions: ["pull"] }];
  let name = "";
  const read = async (token: string) => as(target(), bearer(token)).fetch(`/v2/${name}/manifests/v1`);
  const expectInvalid = async (token: string) => {
    const res = await read(token);
    await expectError(res.clone(), 401, "UNAUTHORIZED");
    expect(challengeOf(res)).toMatchObject({ scope: `repository:${name}:pull`, error: "invalid_token" });
  };

  it("issued tokens carry the configured key's thumbprint as kid; a token minted with that key is accepted", async () => {
    name = `team/${uniqueName()}`;
    await pushImage(as(target(), basic("alice")), name, "v1");
    const issued = (await getToken(target(), [`repository:${name}:pull`], basic("bob"))).token;
    expect(decodePart(issued, 0).kid).toBe(thumbprintOf(KEY.jwk));
    await expectStatus(await read(mintWith(KEY, claims("bob", pull(name)))), 200);
  });

  it("expired 30 s ago -> still accepted (60 s leeway); expired 90 s ago -> 401 invalid_token", async () => {
    const now = Math.floor(Date.now() / 1000);
    await expectStatus(await read(mintWith(KEY, claims("bob", pull(name), { exp: now - 30, iat: now - 400, nbf: now - 400 }))), 200);
    await expectInvalid(mintWith(KEY, claims("bob", pull(name), { exp: now - 90, iat: now - 400, nbf: now - 400 })));
  });

  it("nbf 2 minutes ahead -> 401 invalid_token", async () => {
    await expectInvalid(mintWith(KEY, claims("bob", pull(name), { nbf: Math.floor(Date.now() / 1000) + 120 })));
  });

  it("signed by another key / alg none / alg HS256 / a flipped payload -> 401 invalid_token", async () => {
    await expectInvalid(mintWith(OTHER_KEY, claims("bob", pull(name))));
    await expectInvalid(mintWith(KEY, claims("bob", pull(name)), { alg: "none" }));
    const good = mintWith(KEY, claims("bob", pull(name)));
    const [head, , sig] = good.split(".");
    await expectInvalid(`${Buffer.from(JSON.stringify({ typ: "JWT", alg: "HS256" })).toString("base64url")}.${good.split(".")[1]}.${sig}`);
    const tampered = Buffer.from(JSON.stringify(claims("alice", [{ type: "repository", name, actions: ["*"] }]))).toString("base64url");
    await expectInvalid(`${head}.${tampered}.${sig}`);
  });

  it("aud of another service / iss of another issuer -> 401 invalid_token", async () => {
    await expectInvalid(mintWith(KEY, claims("bob", pull(name), { aud: "other-registry" })));
    await expectInvalid(mintWith(KEY, claims("bob", pull(name), { iss: "someone-else" })));
  });

  it("a valid token for another repository -> 401 insufficient_scope", async () => {
    const res = await read(mintWith(KEY, claims("bob", pull(`team/${uniqueName()}`))));
    expect(challengeOf(res).error).toBe("insufficient_scope");
    await expectError(res, 401, "UNAUTHORIZED");
  });

  it("a token claiming more than the policy allows (bob: push) -> the policy wins, 403 DENIED", async () => {
    const token = mintWith(KEY, claims("bob", [{ type: "repository", name, actions: ["pull", "push"] }]));
    await expectError(await as(target(), bearer(token)).fetch(`/v2/${name}/blobs/uploads/`, { method: "POST" }), 403, "DENIED");
  });

  it("a token for a user not in htpasswd -> 401 invalid_token", async () => {
    await expectInvalid(mintWith(KEY, claims("mallory", pull(name))));
  });
}, ["htpasswd"]);

describeTargets("auth tokens: a trusted external issuer (auth.token.trust)", (kind) => {
  const corp = makeKey();
  const publicPem = createPublicKey(corp.key).export({ type: "spki", format: "pem" }) as string;
  const target = useTarget(kind, { auth: { htpasswd: HTPASSWD, policy: EXAMPLE_POLICY, token: { trust: [{ issuer: "corp-auth", service: "registry.corp", keys: publicPem }] } } });

  it("its tokens are taken as they say (even for a user Berth does not know); wrong aud or key -> invalid_token", async () => {
    const name = `team/${uniqueName()}`;
    const access = [{ type: "repository", name, actions: ["pull", "push"] }];
    const token = mint(corp.key, claims("ci-bot", access, { iss: "corp-auth", aud: "registry.corp" }));
    await pushImage(as(target(), bearer(token)), name, "v1");
    const wrongAud = await as(target(), bearer(mint(corp.key, claims("ci-bot", access, { iss: "corp-auth", aud: "berth" })))).fetch(`/v2/${name}/manifests/v1`);
    expect(challengeOf(wrongAud).error).toBe("invalid_token");
    await wrongAud.body?.cancel();
    const wrongKey = await as(target(), bearer(mint(OTHER_KEY.key, claims("ci-bot", access, { iss: "corp-auth", aud: "registry.corp" })))).fetch(`/v2/${name}/manifests/v1`);
    expect(challengeOf(wrongKey).error).toBe("invalid_token");
    await wrongKey.body?.cancel();
    const readOnly = mint(corp.key, claims("ci-bot", [{ type: "repository", name, actions: ["pull"] }], { iss: "corp-auth", aud: "registry.corp" }));
    const push = await as(target(), bearer(readOnly)).fetch(`/v2/${name}/blobs/uploads/`, { method: "POST" });
    expect(challengeOf(push).error).toBe("insufficient_scope");
    await push.body?.cancel();
  });
}, ["htpasswd"]);

describeTargets("auth policy: catalog and globs", (kind) => {
  const POLICY = `${EXAMPLE_POLICY}  - repositories: ["single/*", "apps/*-ci"]
    users: [bob]
    actions: [pull, push]
`;
  const target = useTarget(kind, { auth: { htpasswd: HTPASSWD, policy: POLICY } });
  const prefix = uniqueName("cat").replace(/\//g, "-"); // one path component

  it("GET /v2/_catalog lists only what the caller may pull: anonymous public/, users everything", async () => {
    const alice = as(target(), basic("alice"));
    for (const name of [`public/${prefix}/a`, `team/${prefix}/b`]) await pushImage(alice, name, "v1");
    const mine = (repositories: string[]) => repositories.filter((r) => r.includes(prefix));
    const anonymous = (await getToken(target(), ["registry:catalog:*"])).token;
    const seen = async (authorization: string | null) => {
      const t = authorization ? as(target(), authorization) : target();
      const res = await t.fetch("/v2/_catalog");
      await expectStatus(res.clone(), 200);
      return mine(((await res.json()) as { repositories: string[] }).repositories);
    };
    expect(await seen(null)).toEqual([`public/${prefix}/a`]);
    expect(await seen(bearer(anonymous))).toEqual([`public/${prefix}/a`]);
    expect(await seen(bearer((await getToken(target(), ["registry:catalog:*"], basic("carol"))).token))).toEqual([`public/${prefix}/a`, `team/${prefix}/b`]);
    expect(await seen(basic("alice"))).toEqual([`public/${prefix}/a`, `team/${prefix}/b`]);
  });

  it("a token without registry:catalog:* on GET /v2/_catalog -> 401 insufficient_scope, scope=registry:catalog:*", async () => {
    const token = (await getToken(target(), ["repository:public/x:pull"])).token;
    const res = await as(target(), bearer(token)).fetch("/v2/_catalog");
    expect(challengeOf(res)).toMatchObject({ scope: "registry:catalog:*", error: "insufficient_scope" });
    await expectError(res, 401, "UNAUTHORIZED");
  });

  it("globs: single/* covers single/a, not single/a/b; apps/*-ci covers apps/web-ci, not apps/web; ** covers team/a/b/c", async () => {
    const bob = as(target(), basic("bob"));
    await pushImage(bob, `single/${prefix}`, "v1");
    await pushImage(bob, `apps/${prefix}-ci`, "v1");
    await expectError(await bob.fetch(`/v2/single/${prefix}/deeper/blobs/uploads/`, { method: "POST" }), 403, "DENIED");
    await expectError(await bob.fetch(`/v2/apps/${prefix}/blobs/uploads/`, { method: "POST" }), 403, "DENIED");
    await pushImage(as(target(), basic("alice")), `team/${prefix}/b/c`, "v1");
    await expectStatus(await target().fetch(`/v2/public/${prefix}/a/manifests/v1`), 200);
  });
}, ["htpasswd"]);

describeTargets("auth reload", (kind) => {
  const target = useTarget(kind, { auth: { htpasswd: HTPASSWD, policy: EXAMPLE_POLICY, reload: { intervalMs: 1000 } } });
  // Until one answer shows the change; then, one check interval later, the answer must hold
  // (with --workers each process checks its files on its own: the one asked must have too).
  const waitFor = async (check: () => Promise<boolean>) => {
    for (let i = 0; i < 40 && !(await check()); i++) await new Promise((r) => setTimeout(r, 250));
    await new Promise((r) => setTimeout(r, 1100));
    expect(await check()).toBe(true);
  };

  it("removing bob from htpasswd revokes his token and his password within seconds; a broken file keeps the old", async () => {
    const name = `team/${uniqueName()}`;
    await pushImage(as(target(), basic("alice")), name, "v1");
    const token = (await getToken(target(), [`repository:${name}:pull`], basic("bob"))).token;
    const status = async (authorization: string) => (await as(target(), authorization).fetch(`/v2/${name}/manifests/v1`, { method: "HEAD" })).status;
    expect(await status(bearer(token))).toBe(200);
    await target().writeAuthFile!("htpasswd", "alice:not-bcrypt\n");
    await new Promise((r) => setTimeout(r, 1500));
    expect(await status(basic("bob"))).toBe(200); // the broken file was refused
    const { alice, carol } = USERS;
    await target().writeAuthFile!("htpasswd", htpasswdOf({ alice, carol }));
    await waitFor(async () => (await status(bearer(token))) === 401);
    expect(await status(basic("bob"))).toBe(401);
    expect(await status(basic("carol"))).toBe(200);
  });

  it("narrowing the policy ends what a token already issued could do, before it expires", async () => {
    const name = `team/${uniqueName()}`;
    const token = (await getToken(target(), [`repository:${name}:pull,push`], basic("alice"))).token;
    const post = async () => {
      const res = await as(target(), bearer(token)).fetch(`/v2/${name}/blobs/uploads/`, { method: "POST" });
      await res.body?.cancel();
      return res.status;
    };
    expect(await post()).toBe(202);
    await target().writeAuthFile!("policy", EXAMPLE_POLICY.replace('["public/**", "team/**"]', '["public/**"]'));
    await waitFor(async () => (await post()) === 403);
  });
}, ["htpasswd", "authReload"]);

describeTargets("auth reload on SIGHUP", (kind) => {
  // Files are checked only hourly here: what changes in the test is SIGHUP's doing.
  const target = useTarget(kind, { auth: { htpasswd: HTPASSWD, policy: EXAMPLE_POLICY, reload: { intervalMs: 3_600_000 } } });

  it("a policy change waits for SIGHUP, then takes effect without a restart", async () => {
    const name = `team/${uniqueName()}`;
    const carol = as(target(), basic("carol"));
    const post = async () => {
      const res = await carol.fetch(`/v2/${name}/blobs/uploads/`, { method: "POST" });
      await res.body?.cancel();
      return res.status;
    };
    expect(await post()).toBe(403);
    await target().writeAuthFile!("policy", `${EXAMPLE_POLICY}  - repositories: ["team/**"]\n    users: [carol]\n    actions: [push]\n`);
    await new Promise((r) => setTimeout(r, 500));
    expect(await post(), "before SIGHUP").toBe(403);
    await target().hangUp!();
    for (let i = 0; i < 20 && (await post()) !== 202; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await post()).toBe(202);
  });
}, ["htpasswd", "authReload"]);
