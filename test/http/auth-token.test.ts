/**
 * The Docker token protocol (distribution's docs/spec/auth): Bearer challenges naming exactly
 * the scopes each endpoint needs, GET /auth/token (token.md) and POST /auth/token (oauth.md,
 * password and refresh_token grants), the issued JWT's header and claims, /auth/jwks, and the
 * answers clients act on: insufficient_scope for a token that lacks an action, 403 DENIED for
 * a known user the policy refuses. The example policy, on every target.
 */
import { expect, it } from "vitest";
import { describeTargets, useTarget } from "../targets/index.ts";
import { expectError, expectStatus, MT, pushImage, randomBytes, sha256, startUpload, uniqueName } from "./helpers.ts";
import { as, basic, bearer, challengeOf, decodePart, EXAMPLE_POLICY, getToken, HTPASSWD, postToken, thumbprintOf, USERS } from "./token-helpers.ts";

describeTargets("auth tokens: challenges", (kind) => {
  const target = useTarget(kind, { auth: { htpasswd: HTPASSWD, policy: EXAMPLE_POLICY } });

  it("GET /v2/ without auth -> 401, Bearer realm=<origin>/auth/token, service=berth, no scope", async () => {
    const res = await target().fetch("/v2/");
    await expectError(res, 401, "UNAUTHORIZED");
    const challenge = challengeOf(res);
    expect(challenge.realm).toMatch(/^https?:\/\/[^/]+\/auth\/token$/);
    expect(challenge).toEqual({ realm: challenge.realm, service: "berth" });
  });

  it("each endpoint's 401 names exactly the scope it needs (GET/HEAD pull, POST/PUT/PATCH pull,push, DELETE delete)", async () => {
    const name = `team/${uniqueName()}`;
    const image = await pushImage(as(target(), basic("alice")), name, "v1");
    const { location } = await startUpload(as(target(), basic("alice")), name);
    const digest = image.layers[0]!.digest;
    const cases: [string, string, string][] = [
      ["GET", `/v2/${name}/manifests/v1`, `repository:${name}:pull`],
      ["HEAD", `/v2/${name}/manifests/v1`, `repository:${name}:pull`],
      ["PUT", `/v2/${name}/manifests/v2`, `repository:${name}:pull,push`],
      ["DELETE", `/v2/${name}/manifests/${image.digest}`, `repository:${name}:delete`],
      ["GET", `/v2/${name}/blobs/${digest}`, `repository:${name}:pull`],
      ["HEAD", `/v2/${name}/blobs/${digest}`, `repository:${name}:pull`],
      ["DELETE", `/v2/${name}/blobs/${digest}`, `repository:${name}:delete`],
      ["POST", `/v2/${name}/blobs/uploads/`, `repository:${name}:pull,push`],
      ["PATCH", location, `repository:${name}:pull,push`],
      ["PUT", `${location}?digest=${sha256("x")}`, `repository:${name}:pull,push`],
      ["GET", location, `repository:${name}:pull`],
      ["DELETE", location, `repository:${name}:delete`],
      ["GET", `/v2/${name}/tags/list`, `repository:${name}:pull`],
      ["GET", `/v2/${name}/referrers/${image.digest}`, `repository:${name}:pull`],
      ["POST", `/v2/${name}/blobs/uploads/?mount=${digest}&from=team/src`, `repository:${name}:pull,push repository:team/src:pull`],
    ];
    for (const [method, path, scope] of cases) {
      const res = await target().fetch(path, { method, ...(method === "PUT" || method === "PATCH" ? { body: "x", headers: { "Content-Type": MT.ociManifest } } : {}) });
      expect(res.status, `${method} ${path}`).toBe(401);
      await res.body?.cancel();
      expect(challengeOf(res).scope, `${method} ${path}`).toBe(scope);
      expect(challengeOf(res).error, `${method} ${path}`).toBeUndefined();
    }
  });

  it("GET /v2/ with a token (anonymous too) -> 200; with a garbage token -> 401 error=invalid_token", async () => {
    const anonymous = await getToken(target(), []);
    await expectStatus(await as(target(), bearer(anonymous.token)).fetch("/v2/"), 200);
    const res = await as(target(), bearer("a.b.c")).fetch("/v2/");
    await expectError(res, 401, "UNAUTHORIZED");
    expect(challengeOf(res).error).toBe("invalid_token");
  });

  it("anonymous GET of a public/ manifest without any token -> 200 (the policy lets anonymous pull)", async () => {
    const name = `public/${uniqueName()}`;
    await pushImage(as(target(), basic("alice")), name, "v1");
    await expectStatus(await target().fetch(`/v2/${name}/manifests/v1`), 200);
  });
}, ["htpasswd"]);

describeTargets("auth tokens: GET and POST /auth/token", (kind) => {
  const target = useTarget(kind, { auth: { htpasswd: HTPASSWD, policy: EXAMPLE_POLICY } });

  it("GET /auth/token anonymous: {token, access_token, expires_in: 300, issued_at}; only public/ pull granted", async () => {
    const reply = await getToken(target(), ["repository:public/app:pull,push", "repository:team/app:pull"]);
    expect(Object.keys(reply).sort()).toEqual(["access_token", "expires_in", "issued_at", "token"]);
    expect(reply.access_token).toBe(reply.token);
    expect(reply.expires_in).toBe(300);
    expect(Math.abs(Date.parse(reply.issued_at) - Date.now())).toBeLessThan(60_000);
    const payload = decodePart(reply.token, 1);
    expect(payload.access).toEqual([{ type: "repository", name: "public/app", actions: ["pull"] }]);
    expect(payload.sub).toBe("");
  });

  it("the JWT: header {typ, alg: ES256, kid = RFC 7638 thumbprint of the /auth/jwks key}; claims iss sub aud exp nbf iat jti access", async () => {
    const reply = await getToken(target(), ["repository:team/app:push,pull"], basic("alice"));
    const header = decodePart(reply.token, 0);
    const jwks = (await (await target().fetch("/auth/jwks")).json()) as { keys: { kty: string; crv: string; x: string; y: string; kid: string }[] };
    expect(jwks.keys).toHaveLength(1);
    expect(header).toEqual({ typ: "JWT", alg: "ES256", kid: thumbprintOf(jwks.keys[0]!) });
    expect(jwks.keys[0]!.kid).toBe(header.kid);
    const payload = decodePart(reply.token, 1) as Record<string, number | string | unknown[]>;
    expect(Object.keys(payload).sort()).toEqual(["access", "aud", "exp", "iat", "iss", "jti", "nbf", "sub"]);
    expect(payload).toMatchObject({ iss: "berth", aud: "berth", sub: "alice", access: [{ type: "repository", name: "team/app", actions: ["push", "pull"] }] });
    expect((payload.exp as number) - (payload.iat as number)).toBe(300);
    const second = decodePart((await getToken(target(), [], basic("alice"))).token, 1);
    expect(second.jti).not.toBe(payload.jti);
  });

  it("GET /auth/token grants the intersection of asked and allowed: alice push team/, pull other/; bob pull only; * expands", async () => {
    const alice = decodePart((await getToken(target(), ["repository:team/a:pull,push,delete", "repository:other/a:pull,push"], basic("alice"))).token, 1);
    expect(alice.access).toEqual([
      { type: "repository", name: "team/a", actions: ["pull", "push", "delete"] },
      { type: "repository", name: "other/a", actions: ["pull"] },
    ]);
    const bob = decodePart((await getToken(target(), ["repository:team/a:*"], basic("bob"))).token, 1);
    expect(bob.access).toEqual([{ type: "repository", name: "team/a", actions: ["pull"] }]);
    const spaced = decodePart((await getToken(target(), ["repository:team/a:pull repository:public/b:pull registry:catalog:*"], basic("alice"))).token, 1);
    expect((spaced.access as unknown[]).length).toBe(3);
  });

  it("GET /auth/token with a wrong password -> 401 'incorrect username or password' (docker login fails)", async () => {
    const res = await target().fetch("/auth/token?service=berth&account=alice", { headers: { Authorization: "Basic " + btoa("alice:wrong") } });
    const [error] = await expectError(res, 401, "UNAUTHORIZED");
    expect(error!.message).toBe("incorrect username or password");
  });

  it("GET /auth/token?offline_token=true (docker login) -> refresh_token; POST grant_type=refresh_token (docker) -> new token", async () => {
    const login = await getToken(target(), [], basic("alice"), { account: "alice", client_id: "docker", offline_token: "true" });
    expect(login.refresh_token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const res = await postToken(target(), { client_id: "docker", grant_type: "refresh_token", refresh_token: login.refresh_token!, scope: "repository:team/x:push,pull", service: "berth" });
    await expectStatus(res.clone(), 200);
    const reply = (await res.json()) as { access_token: string; scope: string; expires_in: number; refresh_token?: string };
    expect(reply.scope).toBe("repository:team/x:push,pull");
    expect(reply.expires_in).toBe(300);
    expect(reply.refresh_token).toBeUndefined();
    expect(decodePart(reply.access_token, 1).sub).toBe("alice");
  });

  it("a refresh token is no access token, and an access token is no refresh token", async () => {
    const login = await getToken(target(), ["repository:team/x:pull"], basic("alice"), { offline_token: "true" });
    const asAccess = await as(target(), bearer(login.refresh_token!)).fetch("/v2/");
    expect(challengeOf(asAccess).error).toBe("invalid_token");
    await asAccess.body?.cancel();
    const res = await postToken(target(), { grant_type: "refresh_token", refresh_token: login.token, service: "berth" });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: "invalid_grant" });
  });

  it("POST grant_type=password (containerd): right -> token (+refresh with access_type=offline); wrong -> 401 invalid_grant", async () => {
    const ok = await postToken(target(), { client_id: "containerd-client", grant_type: "password", username: "alice", password: USERS.alice, scope: "repository:team/c:pull repository:team/c:pull,push", service: "berth", access_type: "offline" });
    await expectStatus(ok.clone(), 200);
    const reply = (await ok.json()) as { access_token: string; refresh_token: string };
    expect(decodePart(reply.access_token, 1).access).toEqual([{ type: "repository", name: "team/c", actions: ["pull", "push"] }]);
    expect(reply.refresh_token).toBeTruthy();
    const wrong = await postToken(target(), { grant_type: "password", username: "alice", password: "nope", service: "berth" });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ error: "invalid_grant" });
  });

  it("POST /auth/token with an unknown grant_type -> 400 unsupported_grant_type; a garbage refresh token -> 401", async () => {
    const res = await postToken(target(), { grant_type: "client_credentials" });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: "unsupported_grant_type" });
    const bad = await postToken(target(), { grant_type: "refresh_token", refresh_token: "x.y.z" });
    expect(bad.status).toBe(401);
    await bad.body?.cancel();
  });

  it("DELETE /auth/token -> 405 Allow: GET, POST", async () => {
    const res = await target().fetch("/auth/token", { method: "DELETE" });
    await expectError(res, 405, "UNSUPPORTED");
    expect(res.headers.get("allow")).toBe("GET, POST");
  });
}, ["htpasswd"]);

describeTargets("auth tokens: using them", (kind) => {
  const target = useTarget(kind, { auth: { htpasswd: HTPASSWD, policy: EXAMPLE_POLICY } });

  it("a push to team/ with alice's token -> 201s; a pull of it with the same token -> 200", async () => {
    const name = `team/${uniqueName()}`;
    const token = (await getToken(target(), [`repository:${name}:push,pull`], basic("alice"))).token;
    const image = await pushImage(as(target(), bearer(token)), name, "v1");
    const res = await as(target(), bearer(token)).fetch(`/v2/${name}/manifests/v1`);
    await expectStatus(res.clone(), 200);
    expect(await res.text()).toBe(image.manifest);
  });

  it("an anonymous token on a push -> 401 error=insufficient_scope naming the push scope (the client may log in)", async () => {
    const name = `public/${uniqueName()}`;
    const token = (await getToken(target(), [`repository:${name}:push,pull`])).token;
    const res = await as(target(), bearer(token)).fetch(`/v2/${name}/blobs/uploads/`, { method: "POST" });
    await expectError(res, 401, "UNAUTHORIZED");
    expect(challengeOf(res)).toMatchObject({ scope: `repository:${name}:pull,push`, error: "insufficient_scope" });
  });

  it("bob (pull only) with a token on a push -> 403 DENIED, no challenge (no loop)", async () => {
    const name = `team/${uniqueName()}`;
    const token = (await getToken(target(), [`repository:${name}:pull,push`], basic("bob"))).token;
    const res = await as(target(), bearer(token)).fetch(`/v2/${name}/blobs/uploads/`, { method: "POST" });
    await expectError(res, 403, "DENIED");
    expect(res.headers.get("www-authenticate")).toBeNull();
  });

  it("alice's token for team/a used on team/b -> 401 insufficient_scope (she may, the token does not say so)", async () => {
    const token = (await getToken(target(), ["repository:team/a:pull,push"], basic("alice"))).token;
    const res = await as(target(), bearer(token)).fetch(`/v2/team/${uniqueName()}/blobs/uploads/`, { method: "POST" });
    expect(challengeOf(res).error).toBe("insufficient_scope");
    await expectError(res, 401, "UNAUTHORIZED");
  });

  it("Basic credentials straight to the registry: alice pushes team/, carol cannot push (403), anyone pulls public/", async () => {
    const name = `team/${uniqueName()}`;
    await pushImage(as(target(), basic("alice")), name, "v1");
    await expectError(await as(target(), basic("carol")).fetch(`/v2/${name}/blobs/uploads/`, { method: "POST" }), 403, "DENIED");
    await expectStatus(await as(target(), basic("carol")).fetch(`/v2/${name}/manifests/v1`), 200);
    const res = await as(target(), "Basic " + btoa("carol:wrong")).fetch(`/v2/${name}/manifests/v1`);
    await expectError(res, 401, "UNAUTHORIZED");
  });

  it("a mount from a repository the token cannot pull -> 202 (a plain upload), blob not linked", async () => {
    const secret = `team/${uniqueName()}`;
    const data = randomBytes(32);
    const up = await as(target(), basic("alice")).fetch(`/v2/${secret}/blobs/uploads/?digest=${sha256(data)}`, { method: "POST", body: data });
    await expectStatus(up, 201);
    const name = `team/${uniqueName()}`;
    const token = (await getToken(target(), [`repository:${name}:pull,push`], basic("alice"))).token;
    const res = await as(target(), bearer(token)).fetch(`/v2/${name}/blobs/uploads/?mount=${sha256(data)}&from=${secret}`, { method: "POST" });
    await expectStatus(res, 202);
    const both = (await getToken(target(), [`repository:${name}:pull,push`, `repository:${secret}:pull`], basic("alice"))).token;
    await expectStatus(await as(target(), bearer(both)).fetch(`/v2/${name}/blobs/uploads/?mount=${sha256(data)}&from=${secret}`, { method: "POST" }), 201);
  });

  // Without `from` the client names no repository, so its token cannot carry a scope for one:
  // "may pull" is then the policy for the token's user (Grant.mayPull). The custom-authorizer
  // suite (auth.test.ts) covers a caller who may pull no repository holding the blob.
  it("POST ?mount=<digest> without from, Bearer token for <name> only -> 201 from a repository the user may pull", async () => {
    const secret = `team/${uniqueName()}`;
    const data = randomBytes(33);
    await expectStatus(await as(target(), basic("alice")).fetch(`/v2/${secret}/blobs/uploads/?digest=${sha256(data)}`, { method: "POST", body: data }), 201);
    const name = `team/${uniqueName()}`;
    const own = (await getToken(target(), [`repository:${name}:pull,push`], basic("alice"))).token;
    const mounted = await as(target(), bearer(own)).fetch(`/v2/${name}/blobs/uploads/?mount=${sha256(data)}`, { method: "POST" });
    await expectStatus(mounted, 201);
    expect(mounted.headers.get("docker-content-digest")).toBe(sha256(data));
    await expectStatus(await as(target(), bearer(own)).fetch(`/v2/${name}/blobs/${sha256(data)}`, { method: "HEAD" }), 200);
  });
}, ["htpasswd"]);
