// A manifest's bytes may ride beside a bodiless Response (src/bytes-response.ts), but only to
// the shim that says it writes them itself (ExchangeInfo's writesBytes): every other caller of
// Registry.fetch, and a wrapper handed to serve(), sees an ordinary Response with its body.
import { afterAll, beforeAll, expect, test } from "vitest";
import { bytesBeside } from "../src/bytes-response.ts";
import { createRegistry, MemoryStore, type Registry } from "../src/index.ts";
import { serve, type RunningServer } from "../runtimes/node/server.ts";
import { pushImage, type PushedImage } from "./http/helpers.ts";
import type { Target } from "./targets/index.ts";

const ORIGIN = "http://registry.test";
const ACCEPT = { Accept: "application/vnd.oci.image.manifest.v1+json" };
let registry: Registry;
let image: PushedImage;
const servers: RunningServer[] = [];

beforeAll(async () => {
  registry = createRegistry({ store: new MemoryStore() });
  const target: Target = {
    name: "in-process",
    fetch: (path, init) => registry.fetch(new Request(ORIGIN + path, init)),
    close: async () => {},
    lifecycle: async () => "",
  };
  image = await pushImage(target, "bytes/app", "v1");
});

afterAll(async () => {
  for (const server of servers) await server.close(0);
});

const getManifest = (info?: { writesBytes?: boolean }) => registry.fetch(new Request(`${ORIGIN}/v2/bytes/app/manifests/v1`, { headers: ACCEPT }), info);

test("Registry.fetch without writesBytes answers the manifest inside an ordinary Response", async () => {
  const response = await getManifest();
  expect(bytesBeside(response)).toBeUndefined();
  expect(response.headers.get("content-length")).toBe(String(image.size));
  expect(await response.text()).toBe(image.manifest);
});

test("with writesBytes the manifest comes beside a bodiless Response, its length in the headers", async () => {
  const response = await getManifest({ writesBytes: true });
  expect(response.body).toBeNull();
  expect(new TextDecoder().decode(bytesBeside(response))).toBe(image.manifest);
  expect(response.headers.get("content-length")).toBe(String(image.size));
});

test("serve() with a wrapped fetch calls the wrapper, and a wrapper that rebuilds Responses still sends the body", async () => {
  let calls = 0;
  const wrapped: Registry = {
    ...registry,
    // A framework's middleware: it does not pass the shim's info on, and copies the response.
    fetch: async (request) => {
      calls++;
      const response = await registry.fetch(request);
      return new Response(response.body, { status: response.status, headers: response.headers });
    },
  };
  const server = await serve({ registry: wrapped, port: 0 });
  servers.push(server);
  const response = await fetch(`${server.url}/v2/bytes/app/manifests/v1`, { headers: ACCEPT });
  expect(response.status).toBe(200);
  expect(await response.text()).toBe(image.manifest);
  expect(calls).toBe(1);
});

test("serve() with the registry itself sends the manifest bytes over the socket", async () => {
  const server = await serve({ registry, port: 0 });
  servers.push(server);
  const response = await fetch(`${server.url}/v2/bytes/app/manifests/v1`, { headers: ACCEPT });
  expect(response.headers.get("content-length")).toBe(String(image.size));
  expect(await response.text()).toBe(image.manifest);
  const head = await fetch(`${server.url}/v2/bytes/app/manifests/v1`, { method: "HEAD", headers: ACCEPT });
  expect(head.headers.get("content-length")).toBe(String(image.size));
  expect(await head.text()).toBe("");
});
