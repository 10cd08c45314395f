/**
 * Access control and hooks: HTTP Basic sent straight to the registry, checked against htpasswd
 * (bcrypt $2b$ and $2y$) — the challenges point at the token endpoint (auth-token*.test.ts) —,
 * the shorthand policies (anonymous pull, read-only users), a custom authorizer; onManifestPushed,
 * onManifestDeleted, onBlobPushed, and hooks that throw.
 */
import { execFileSync } from "node:child_process";
import bcrypt from "bcryptjs";
import { expect, it, vi } from "vitest";
import type { AccessRequest, BlobEvent, ManifestEvent } from "../../src/options.ts";
import { describeTargets, useTarget, type Target } from "../targets/index.ts";
import {
  API_VERSION,
  basicAuth,
  blobStatus,
  expectError,
  expectStatus,
  MT,
  pushBlob,
  pushImage,
  pushManifest,
  randomBytes,
  sha256,
  startUpload,
  uniqueName,
  withQuery,
} from "./helpers.ts";

const ALICE = basicAuth("alice", "al1ce-pw");
const BOB = basicAuth("bob", "b0b-secret");
const CAROL = basicAuth("carol", "car0l-pw");
/** `htpasswd -nbB -C 4 bob b0b-secret`, as apache2-utils writes it ($2y$). */
const BOB_LINE = "bob:$2y$04$GG0rq.e6WJhFHwWevO58neF4aKQSsb43LXLnIrqng5O33C28gZZNq";

/** A $2y$ line made by the htpasswd tool on this machine, when it is installed. */
function htpasswdToolLine(): string | null {
  try {
    return execFileSync("htpasswd", ["-nbB", "-C", "4", "dave", "dav3-pw"], { encoding: "utf8" }).trim();
  } catch {
    return null;
  }
}
const DAVE_LINE = htpasswdToolLine();

const HTPASSWD = [
  "# users for the test suite",
  `alice:${bcrypt.hashSync("al1ce-pw", 4)}`,
  BOB_LINE,
  `carol:${bcrypt.hashSync("car0l-pw", 4)}`,
  ...(DAVE_LINE ? [DAVE_LINE] : []),
  "",
].join("\n");

/** A target wrapper that adds `extra` headers to every request. */
const withHeaders = (t: Target, extra: Record<string, string>): Target => ({
  ...t,
  fetch: (path, init = {}) => {
    const headers = new Headers(init.headers);
    for (const [k, v] of Object.entries(extra)) headers.set(k, v);
    return t.fetch(path, { ...init, headers });
  },
});
const as = (t: Target, authorization: string): Target => withHeaders(t, { Authorization: authorization });

/** htpasswd auth issues tokens: its 401s send clients to the token endpoint. */
async function expectChallenge(res: Response, realm?: string): Promise<void> {
  const challenge = res.headers.get("www-authenticate") ?? "";
  expect(challenge).toMatch(/^Bearer realm="[^"]*\/auth\/token",service="berth"/);
  if (realm) expect(challenge).toContain(`realm="${realm}"`);
  expect(res.headers.get("docker-distribution-api-version")).toBe(API_VERSION);
  if (res.status === 401 && res.body) await expectError(res, 401, "UNAUTHORIZED");
}

/** A custom authorizer's 401 asks for Basic credentials. */
async function expectBasicChallenge(res: Response): Promise<void> {
  const challenge = res.headers.get("www-authenticate") ?? "";
  expect(challenge).toMatch(/^Basic realm="Berth"/);
  expect(res.headers.get("docker-distribution-api-version")).toBe(API_VERSION);
  if (res.status === 401 && res.body) await expectError(res, 401, "UNAUTHORIZED");
}

describeTargets("auth: htpasswd", (kind) => {
  const target = useTarget(kind, { auth: { htpasswd: HTPASSWD } });

  it("GET /v2/ without credentials -> 401 UNAUTHORIZED with WWW-Authenticate: Bearer realm=<origin>/auth/token", async () => {
    const res = await target().fetch("/v2/");
    expect(res.status).toBe(401);
    await expectChallenge(res);
  });

  it("GET /v2/ with valid credentials -> 200 ($2b$ from bcryptjs, $2y$ from htpasswd -B)", async () => {
    await expectStatus(await target().fetch("/v2/", { headers: { Authorization: ALICE } }), 200);
    await expectStatus(await target().fetch("/v2/", { headers: { Authorization: BOB } }), 200);
  });

  it.skipIf(!DAVE_LINE)("GET /v2/ as a user from `htpasswd -nbB` run now -> 200", async () => {
    await expectStatus(await target().fetch("/v2/", { headers: { Authorization: basicAuth("dave", "dav3-pw") } }), 200);
  });

  for (const [label, header] of [
    ["a wrong password", basicAuth("alice", "wrong")],
    ["an unknown user", basicAuth("mallory", "al1ce-pw")],
    ["another user's password", basicAuth("bob", "al1ce-pw")],
    ["an empty password", basicAuth("alice", "")],
    ["malformed base64", "Basic !!!not-base64!!!"],
    ["no colon", `Basic ${Buffer.from("alice").toString("base64")}`],
    ["a Bearer token that is no JWT", "Bearer abc.def.ghi"],
    ["a bare scheme", "Basic"],
  ] as const) {
    it(`GET /v2/ with ${label} -> 401 with a challenge`, async () => {
      const res = await target().fetch("/v2/", { headers: { Authorization: header } });
      expect(res.status).toBe(401);
      await expectChallenge(res);
    });
  }

  it("pulls without credentials -> 401 (manifest, blob, HEAD, tags, referrers); GET /v2/_catalog -> 200, lists nothing", async () => {
    const name = uniqueName();
    const image = await pushImage(as(target(), ALICE), name, "v1");
    for (const [path, method] of [
      [`/v2/${name}/manifests/v1`, "GET"],
      [`/v2/${name}/manifests/v1`, "HEAD"],
      [`/v2/${name}/blobs/${image.layers[0]!.digest}`, "GET"],
      [`/v2/${name}/blobs/${image.layers[0]!.digest}`, "HEAD"],
      [`/v2/${name}/tags/list`, "GET"],
      [`/v2/${name}/referrers/${image.digest}`, "GET"],
    ]) {
      const res = await target().fetch(path!, { method });
      expect(res.status, `${method} ${path}`).toBe(401);
      await expectChallenge(res);
    }
    const catalog = await target().fetch("/v2/_catalog");
    expect(await catalog.json()).toEqual({ repositories: [] });
  });

  it("pushes and deletes without credentials -> 401, nothing stored", async () => {
    const name = uniqueName();
    const data = randomBytes(10);
    for (const [path, method, body] of [
      [`/v2/${name}/blobs/uploads/`, "POST", undefined],
      [`/v2/${name}/blobs/uploads/?digest=${sha256(data)}`, "POST", data],
      [`/v2/${name}/manifests/v1`, "PUT", "{}"],
      [`/v2/${name}/manifests/v1`, "DELETE", undefined],
      [`/v2/${name}/blobs/${sha256(data)}`, "DELETE", undefined],
    ] as const) {
      const res = await target().fetch(path, { method, body });
      expect(res.status, `${method} ${path}`).toBe(401);
      await expectChallenge(res);
    }
    expect(await blobStatus(as(target(), ALICE), name, sha256(data))).toBe(404);
  });

  it("an upload session started by alice cannot be continued without credentials -> 401", async () => {
    const name = uniqueName();
    const { location } = await startUpload(as(target(), ALICE), name);
    const res = await target().fetch(location, { method: "PATCH", body: randomBytes(10) });
    expect(res.status).toBe(401);
    await res.body?.cancel();
  });

  it("a full push and pull with credentials -> 201s and 200s", async () => {
    const name = uniqueName();
    const alice = as(target(), ALICE);
    const image = await pushImage(alice, name, "v1", { layerCount: 2 });
    const res = await alice.fetch(`/v2/${name}/manifests/v1`);
    await expectStatus(res, 200);
    expect(await res.text()).toBe(image.manifest);
    const bob = as(target(), BOB);
    await expectStatus(await bob.fetch(`/v2/${name}/blobs/${image.layers[1]!.digest}`), 200);
    await expectStatus(await bob.fetch(`/v2/${name}/manifests/v1`, { method: "DELETE" }), 202);
  });
}, ["htpasswd"]);

describeTargets("auth: anonymous pull", (kind) => {
  const target = useTarget(kind, { auth: { htpasswd: HTPASSWD, anonymousPull: true } });

  it("anonymous GET/HEAD of manifests, blobs, tags and referrers -> 200", async () => {
    const name = uniqueName();
    const image = await pushImage(as(target(), ALICE), name, "v1");
    await expectStatus(await target().fetch(`/v2/${name}/manifests/v1`), 200);
    await expectStatus(await target().fetch(`/v2/${name}/manifests/${image.digest}`, { method: "HEAD" }), 200);
    await expectStatus(await target().fetch(`/v2/${name}/blobs/${image.layers[0]!.digest}`), 200);
    await expectStatus(await target().fetch(`/v2/${name}/tags/list`), 200);
    await expectStatus(await target().fetch(`/v2/${name}/referrers/${image.digest}`), 200);
  });

  it("anonymous GET /v2/_catalog -> 200 (anonymousPull covers the catalog)", async () => {
    await expectStatus(await target().fetch("/v2/_catalog"), 200);
  });

  it("anonymous GET /v2/ -> 401 with a challenge (so docker login checks the password)", async () => {
    const res = await target().fetch("/v2/");
    expect(res.status).toBe(401);
    await expectChallenge(res);
    await expectStatus(await target().fetch("/v2/", { headers: { Authorization: ALICE } }), 200);
  });

  it("anonymous push (POST upload, PUT manifest, DELETE) -> 401 with a challenge", async () => {
    const name = uniqueName();
    const image = await pushImage(as(target(), ALICE), name, "v1");
    for (const [path, method, body] of [
      [`/v2/${name}/blobs/uploads/`, "POST", undefined],
      [`/v2/${name}/manifests/v2`, "PUT", image.manifest],
      [`/v2/${name}/manifests/${image.digest}`, "DELETE", undefined],
      [`/v2/${name}/blobs/${image.layers[0]!.digest}`, "DELETE", undefined],
    ] as const) {
      const res = await target().fetch(path, { method, body, headers: { "Content-Type": MT.ociManifest } });
      expect(res.status, `${method} ${path}`).toBe(401);
      await expectChallenge(res);
    }
    await expectStatus(await target().fetch(`/v2/${name}/manifests/v1`), 200);
  });

  it("a pull with bad credentials -> 401 (not silently anonymous)", async () => {
    const name = uniqueName();
    await pushImage(as(target(), ALICE), name, "v1");
    const res = await target().fetch(`/v2/${name}/manifests/v1`, { headers: { Authorization: basicAuth("alice", "bad") } });
    expect(res.status).toBe(401);
    await expectChallenge(res);
  });

  it("authenticated push -> 201", async () => {
    const name = uniqueName();
    await pushImage(as(target(), BOB), name, "v1");
    await expectStatus(await target().fetch(`/v2/${name}/manifests/v1`), 200);
  });
}, ["htpasswd"]);

describeTargets("auth: read-only users and token realm", (kind) => {
  const REALM = "https://registry.example/auth/token";
  const target = useTarget(kind, { auth: { htpasswd: HTPASSWD, readOnlyUsers: ["carol"], token: { realm: REALM } } });

  it("401 challenge names the configured token realm", async () => {
    const res = await target().fetch("/v2/");
    expect(res.status).toBe(401);
    await expectChallenge(res, REALM);
  });

  it("read-only user pulls -> 200; pushes and deletes -> 403 DENIED", async () => {
    const name = uniqueName();
    const image = await pushImage(as(target(), ALICE), name, "v1");
    const carol = as(target(), CAROL);
    await expectStatus(await carol.fetch("/v2/"), 200);
    await expectStatus(await carol.fetch(`/v2/${name}/manifests/v1`), 200);
    await expectStatus(await carol.fetch(`/v2/${name}/blobs/${image.layers[0]!.digest}`), 200);
    await expectStatus(await carol.fetch(`/v2/${name}/tags/list`), 200);
    await expectError(await carol.fetch(`/v2/${name}/blobs/uploads/`, { method: "POST" }), 403, "DENIED");
    await expectError(
      await carol.fetch(`/v2/${name}/manifests/v2`, { method: "PUT", headers: { "Content-Type": MT.ociManifest }, body: image.manifest }),
      403,
      "DENIED",
    );
    await expectError(await carol.fetch(`/v2/${name}/manifests/${image.digest}`, { method: "DELETE" }), 403, "DENIED");
    await expectError(await carol.fetch(`/v2/${name}/blobs/${image.layers[0]!.digest}`, { method: "DELETE" }), 403, "DENIED");
    await expectStatus(await carol.fetch(`/v2/${name}/manifests/v1`), 200);
  });

  it("read-only user cannot continue alice's upload session -> 403 DENIED", async () => {
    const name = uniqueName();
    const { location } = await startUpload(as(target(), ALICE), name);
    await expectError(await as(target(), CAROL).fetch(location, { method: "PATCH", body: randomBytes(4) }), 403, "DENIED");
  });
}, ["authOptions"]);

describeTargets("auth: custom authorizer", (kind) => {
  const calls: { method: string; path: string; access: AccessRequest }[] = [];
  const target = useTarget(kind, {
    auth: {
      // Anyone may pull public/*; pushing and everything else needs X-Token: secret.
      authorize: async (request, access) => {
        const url = new URL(request.url);
        calls.push({ method: request.method, path: url.pathname + url.search, access });
        await new Promise((r) => setTimeout(r, 1));
        if (request.headers.get("x-token") === "secret") return true;
        return access.action === "pull" && access.name.startsWith("public/");
      },
    },
  });
  const admin = () => withHeaders(target(), { "X-Token": "secret" });
  const accessFor = (method: string, path: string) =>
    calls.filter((c) => c.method === method && c.path === path).map((c) => c.access);

  it("the authorizer sees {name, action} per request: pull, push, delete, catalog", async () => {
    const name = `public/${uniqueName()}`;
    const image = await pushImage(admin(), name, "v1");
    const data = randomBytes(8);
    calls.length = 0;
    const t = admin();
    await t.fetch(`/v2/${name}/manifests/v1`);
    await t.fetch(`/v2/${name}/manifests/v1`, { method: "HEAD" });
    await t.fetch(`/v2/${name}/blobs/${image.layers[0]!.digest}`);
    await t.fetch(`/v2/${name}/tags/list`);
    await t.fetch(`/v2/${name}/referrers/${image.digest}`);
    await t.fetch(`/v2/${name}/blobs/uploads/?digest=${sha256(data)}`, { method: "POST", body: data });
    await t.fetch(`/v2/${name}/manifests/v2`, { method: "PUT", headers: { "Content-Type": MT.ociManifest }, body: image.manifest });
    await t.fetch(`/v2/${name}/manifests/v2`, { method: "DELETE" });
    await t.fetch(`/v2/${name}/blobs/${sha256(data)}`, { method: "DELETE" });
    await t.fetch("/v2/_catalog");
    await t.fetch("/v2/");

    expect(accessFor("GET", `/v2/${name}/manifests/v1`)).toEqual([{ name, action: "pull" }]);
    expect(accessFor("HEAD", `/v2/${name}/manifests/v1`)).toEqual([{ name, action: "pull" }]);
    expect(accessFor("GET", `/v2/${name}/blobs/${image.layers[0]!.digest}`)).toEqual([{ name, action: "pull" }]);
    expect(accessFor("GET", `/v2/${name}/tags/list`)).toEqual([{ name, action: "pull" }]);
    expect(accessFor("GET", `/v2/${name}/referrers/${image.digest}`)).toEqual([{ name, action: "pull" }]);
    expect(accessFor("POST", `/v2/${name}/blobs/uploads/?digest=${sha256(data)}`)).toContainEqual({ name, action: "push" });
    expect(accessFor("PUT", `/v2/${name}/manifests/v2`)).toContainEqual({ name, action: "push" });
    expect(accessFor("DELETE", `/v2/${name}/manifests/v2`)).toEqual([{ name, action: "delete" }]);
    expect(accessFor("DELETE", `/v2/${name}/blobs/${sha256(data)}`)).toEqual([{ name, action: "delete" }]);
    // The catalog asks for the catalog, then pull per repository it would list (it lists only those).
    expect(accessFor("GET", "/v2/_catalog")[0]).toEqual({ name: "", action: "catalog" });
    expect(accessFor("GET", "/v2/_catalog")).toContainEqual({ name, action: "pull" });
    expect(accessFor("GET", "/v2/").map((a) => a.name)).toEqual([""]);
  });

  it("an upload session's PATCH and PUT are checked as push, its GET as pull (as distribution derives them)", async () => {
    const name = uniqueName();
    const { location } = await startUpload(admin(), name);
    calls.length = 0;
    const data = randomBytes(5);
    await admin().fetch(location);
    await admin().fetch(location, { method: "PATCH", body: data });
    await admin().fetch(withQuery(location, { digest: sha256(data) }), { method: "PUT" });
    expect(calls.map((c) => c.access)).toEqual([
      { name, action: "pull" },
      { name, action: "push" },
      { name, action: "push" },
    ]);
  });

  it("authorizer false -> 401 UNAUTHORIZED with a Basic challenge; true -> allowed", async () => {
    const pub = `public/${uniqueName()}`;
    const priv = `private/${uniqueName()}`;
    await pushImage(admin(), pub, "v1");
    await pushImage(admin(), priv, "v1");
    await expectStatus(await target().fetch(`/v2/${pub}/manifests/v1`), 200);
    const denied = await target().fetch(`/v2/${priv}/manifests/v1`);
    expect(denied.status).toBe(401);
    await expectBasicChallenge(denied);
    const push = await target().fetch(`/v2/${pub}/blobs/uploads/`, { method: "POST" });
    expect(push.status).toBe(401);
    await push.body?.cancel();
  });

  it("POST /v2/<name>/blobs/uploads/?mount=<digest>&from=<repo> asks the authorizer for push on name and pull on from", async () => {
    const secret = `private/${uniqueName()}`;
    const digest = await pushBlob(admin(), secret, randomBytes(40));
    const name = `public/${uniqueName()}`;
    calls.length = 0;
    const res = await admin().fetch(`/v2/${name}/blobs/uploads/?mount=${digest}&from=${secret}`, { method: "POST" });
    await expectStatus(res, 201);
    const asked = calls.map((c) => c.access);
    expect(asked).toContainEqual({ name, action: "push" });
    expect(asked).toContainEqual({ name: secret, action: "pull" });
  });
}, ["customAuthorizer"]);

/** Token for a client that may do anything on exactly `name` (authorizer below). */
function tokenFor(name: string): string {
  return Buffer.from(name).toString("base64");
}

describeTargets("auth: mount needs pull on from", (kind) => {
  const target = useTarget(kind, {
    auth: {
      authorize: (request, access) => {
        if (request.headers.get("x-token") === "secret") return true;
        const only = request.headers.get("x-push-only");
        const pull = request.headers.get("x-pull");
        if (access.action === "pull" && pull !== null && Buffer.from(pull, "base64").toString() === access.name) return true;
        return only !== null && Buffer.from(only, "base64").toString() === access.name;
      },
    },
  });

  it("POST /v2/<name>/blobs/uploads/?mount=<digest> without from mounts only from a repository the caller may pull", async () => {
    const admin = withHeaders(target(), { "X-Token": "secret" });
    const secret = `private/${uniqueName()}`;
    const digest = await pushBlob(admin, secret, randomBytes(40));
    const name = `mine/${uniqueName()}`;
    const denied = await target().fetch(`/v2/${name}/blobs/uploads/?mount=${digest}`, {
      method: "POST",
      headers: { "X-Push-Only": tokenFor(name) },
    });
    await expectStatus(denied, 202);
    await denied.body?.cancel();
    expect(await blobStatus(admin, name, digest)).toBe(404);

    const readable = `shared/${uniqueName()}`;
    await admin.fetch(`/v2/${readable}/blobs/uploads/?mount=${digest}&from=${secret}`, { method: "POST" });
    const mounted = await target().fetch(`/v2/${name}/blobs/uploads/?mount=${digest}`, {
      method: "POST",
      headers: { "X-Push-Only": tokenFor(name), "X-Pull": tokenFor(readable) },
    });
    await expectStatus(mounted, 201);
    expect(await blobStatus(admin, name, digest)).toBe(200);
  });

  it("POST /v2/<name>/blobs/uploads/?mount=<digest>&from=<repo not readable> -> 202, blob not linked", async () => {
    const admin = withHeaders(target(), { "X-Token": "secret" });
    const secret = `private/${uniqueName()}`;
    const data = randomBytes(40);
    const up = await admin.fetch(`/v2/${secret}/blobs/uploads/?digest=${sha256(data)}`, { method: "POST", body: data });
    await expectStatus(up, 201);
    const name = `mine/${uniqueName()}`;
    const res = await target().fetch(`/v2/${name}/blobs/uploads/?mount=${sha256(data)}&from=${secret}`, {
      method: "POST",
      headers: { "X-Push-Only": tokenFor(name) },
    });
    await expectStatus(res, 202);
    await res.body?.cancel();
    expect(await blobStatus(admin, name, sha256(data))).toBe(404);
  });
}, ["customAuthorizer"]);

describeTargets("hooks", (kind) => {
  const manifests: ManifestEvent[] = [];
  const deleted: Omit<ManifestEvent, "mediaType">[] = [];
  const blobs: BlobEvent[] = [];
  const target = useTarget(kind, {
    hooks: {
      onManifestPushed: (e) => void manifests.push(e),
      onManifestDeleted: (e) => void deleted.push(e),
      onBlobPushed: (e) => void blobs.push(e),
    },
  });

  it("onBlobPushed({name, digest, size}) after PUT upload and monolithic POST; not after a rejected upload", async () => {
    const name = uniqueName();
    const a = randomBytes(33);
    const b = randomBytes(44);
    await pushBlob(target(), name, a);
    const res = await target().fetch(`/v2/${name}/blobs/uploads/?digest=${sha256(b)}`, { method: "POST", body: b });
    await expectStatus(res, 201);
    const bad = await target().fetch(`/v2/${name}/blobs/uploads/?digest=${sha256("other")}`, { method: "POST", body: randomBytes(5) });
    expect(bad.status).toBe(400);
    await vi.waitFor(() => {
      expect(blobs.filter((e) => e.name === name)).toEqual([
        { name, digest: sha256(a), size: 33 },
        { name, digest: sha256(b), size: 44 },
      ]);
    });
  });

  it("onManifestPushed({name, reference, digest, mediaType, size}) for PUT by tag and by digest", async () => {
    const name = uniqueName();
    const image = await pushImage(target(), name, "v1", { docker: true });
    await pushManifest(target(), name, image.digest, image.manifest, MT.dockerManifest);
    await vi.waitFor(() => {
      expect(manifests.filter((e) => e.name === name)).toEqual([
        { name, reference: "v1", digest: image.digest, mediaType: MT.dockerManifest, size: image.size },
        { name, reference: image.digest, digest: image.digest, mediaType: MT.dockerManifest, size: image.size },
      ]);
    });
  });

  it("onManifestDeleted({name, reference, digest}) for DELETE by tag and by digest", async () => {
    const name = uniqueName();
    const image = await pushImage(target(), name, "v1");
    await pushManifest(target(), name, "v2", image.manifest);
    await expectStatus(await target().fetch(`/v2/${name}/manifests/v2`, { method: "DELETE" }), 202);
    await expectStatus(await target().fetch(`/v2/${name}/manifests/${image.digest}`, { method: "DELETE" }), 202);
    await vi.waitFor(() => {
      expect(deleted.filter((e) => e.name === name)).toEqual([
        { name, reference: "v2", digest: image.digest },
        { name, reference: image.digest, digest: image.digest },
      ]);
    });
  });
}, ["hooks"]);

describeTargets("hooks that throw", (kind) => {
  let calls = 0;
  const target = useTarget(kind, {
    hooks: {
      onManifestPushed: () => {
        calls++;
        throw new Error("hook exploded");
      },
      onManifestDeleted: async () => {
        calls++;
        throw new Error("async hook exploded");
      },
      onBlobPushed: () => {
        calls++;
        return Promise.reject(new Error("hook rejected"));
      },
    },
  });

  it("a throwing or rejecting hook never breaks PUT, POST or DELETE", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const name = uniqueName();
    const image = await pushImage(target(), name, "v1");
    await expectStatus(await target().fetch(`/v2/${name}/manifests/v1`), 200);
    await expectStatus(await target().fetch(`/v2/${name}/manifests/${image.digest}`, { method: "DELETE" }), 202);
    await vi.waitFor(() => expect(calls).toBeGreaterThanOrEqual(4));
    await new Promise((r) => setTimeout(r, 50)); // let any unhandled rejection surface
    vi.restoreAllMocks();
  });
}, ["hooks"]);
