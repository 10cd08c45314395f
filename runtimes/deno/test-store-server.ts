// Test helper, not part of the server: serves DenoStores over HTTP so the BlobStore contract
// suite (test/storage, in Node) can run against the Deno file APIs through RemoteStore.
//   deno run --allow-net=127.0.0.1:0 --allow-read=ROOT --allow-write=ROOT test-store-server.ts ROOT
// `/stores/<id>/rpc/...` is the store at ROOT/<id>, so every test gets a fresh, empty one.
import { join } from "node:path";
import { serveStoreRpc } from "../../test/storage/store-rpc.ts";
import { DenoStore } from "./deno-store.ts";

const root = Deno.args[0];
if (!root) throw new Error("usage: test-store-server.ts ROOT");
const STORE_PATH = /^\/stores\/([A-Za-z0-9_-]+)(\/rpc\/.*)$/;

Deno.serve({
  hostname: "127.0.0.1",
  port: 0,
  onListen: ({ port }) => console.log(`listening on http://127.0.0.1:${port}`),
}, (request) => {
  const url = new URL(request.url);
  const match = STORE_PATH.exec(url.pathname);
  if (!match) return new Response("not found", { status: 404 });
  url.pathname = match[2]!;
  return serveStoreRpc(new DenoStore(join(root, match[1]!)), new Request(url, request));
});
