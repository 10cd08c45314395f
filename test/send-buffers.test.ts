/**
 * The Node adapter sends a pulled blob from a few 2 MiB buffers that outlive the pull in a
 * small pool (runtimes/shared/send-body.ts). A buffer may go back to the pool only once the
 * socket is done with it: a pull whose file reads are over can still have a buffer waiting in
 * the socket for a slow client, and a pull that starts meanwhile must not read into it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ServerResponse } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRegistry } from "../src/index.ts";
import { FsStore } from "../runtimes/node/fs-store.ts";
import { fileRangeStream } from "../runtimes/shared/file-range-stream.ts";
import { createNodeCryptoHasher } from "../runtimes/shared/node-crypto-hasher.ts";
import { sendBody } from "../runtimes/shared/send-body.ts";
import { serve } from "../runtimes/node/server.ts";
import { pushBlob, randomBytes } from "./http/helpers.ts";
import { denoBinary } from "./lib/berth-command.ts";
import { startProcessServer } from "./ops/process-server.ts";
import type { Target } from "./targets/index.ts";

const MiB = 1024 * 1024;
const dir = mkdtempSync(join(tmpdir(), "berth-send-buffers-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A byte stream of `bytes`, as a file store gives one. */
const byteStreamOf = (bytes: Uint8Array) =>
  fileRangeStream(bytes.byteLength, async (into, offset) => {
    const n = Math.min(into.byteLength, bytes.byteLength - offset);
    into.set(bytes.subarray(offset, offset + n));
    return n;
  }, () => {});

/** A response whose socket takes a write only when the test says (`release`), or at once. */
function heldResponse(holdWrites: boolean) {
  const writes: Array<{ view: Uint8Array; copy: Buffer; release: () => void }> = [];
  const res = {
    write(view: Uint8Array, done: () => void) {
      const write = { view, copy: Buffer.from(view), release: done };
      writes.push(write);
      if (!holdWrites) setImmediate(done);
      return true;
    },
    end() {},
    on() {
      return res;
    },
    off() {
      return res;
    },
  };
  return { res: res as unknown as ServerResponse, writes };
}

it("a buffer the socket still holds when a pull's reads end is not handed to the next pull", async () => {
  const first = randomBytes(5 * MiB);
  const slow = heldResponse(true);
  const sending = sendBody(byteStreamOf(first), first.byteLength, slow.res, { bytes: 0, aborted: false });
  // Let the socket take writes one by one until the pull has read its whole file.
  let finished = false;
  void sending.then(() => (finished = true));
  for (let taken = 0; !finished; taken++) {
    await new Promise((resolve) => setImmediate(resolve));
    if (!finished && slow.writes[taken]) slow.writes[taken]!.release();
  }
  const waiting = slow.writes.at(-1)!; // written last, not yet taken by the socket
  expect(Buffer.concat(slow.writes.map((w) => w.copy)).equals(Buffer.from(first))).toBe(true);

  const second = randomBytes(9 * MiB);
  const fast = heldResponse(false);
  await sendBody(byteStreamOf(second), second.byteLength, fast.res, { bytes: 0, aborted: false });
  expect(Buffer.concat(fast.writes.map((w) => w.copy)).equals(Buffer.from(second))).toBe(true);
  // The first pull's last buffer still holds what the socket has yet to send.
  expect(Buffer.from(waiting.view).equals(waiting.copy)).toBe(true);
  waiting.release();
});

/** A GET on a raw socket that is not read from until `drain()`: its response waits in the server. */
async function stalledGet(url: string, path: string): Promise<{ socket: Socket; drain: () => Promise<Buffer> }> {
  const { hostname, port } = new URL(url);
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = connect({ host: hostname, port: Number(port) }, () => resolve(s)).once("error", reject);
  });
  socket.pause();
  socket.write(`GET ${path} HTTP/1.1\r\nHost: ${hostname}\r\nConnection: close\r\n\r\n`);
  const drain = () =>
    new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      socket.on("data", (chunk: Buffer) => chunks.push(chunk)).once("end", () => resolve(Buffer.concat(chunks))).once("error", reject);
      socket.resume();
    });
  return { socket, drain };
}

const bodyOf = (response: Buffer) => response.subarray(response.indexOf("\r\n\r\n") + 4);

// Node serves in this process; Deno serves the same adapter (runtimes/shared) through its node:http.
const runtimes = ["node", ...(denoBinary() !== null || process.env.REQUIRE_CLIENTS ? ["deno" as const] : [])] as const;

for (const runtime of runtimes) {
  describe(`pulls over HTTP on ${runtime}`, () => {
    let server: { url: string; stop: () => Promise<unknown> };
    let target: Target;

    beforeAll(async () => {
      if (runtime === "node") {
        const running = await serve({ registry: createRegistry({ store: new FsStore(join(dir, "node")), hasher: createNodeCryptoHasher }), port: 0 });
        server = { url: running.url, stop: () => running.close(0) };
      } else {
        const deno = await startProcessServer("deno", join(dir, "deno"), ["--quiet"]);
        server = { url: deno.url, stop: () => deno.stop() };
      }
      target = { name: runtime, fetch: (path, init) => fetch(server.url + path, init), close: async () => {}, lifecycle: async () => "" };
    }, 60_000);

    afterAll(async () => {
      await server?.stop();
    });

    it("pulls that start while a slow client's last buffers wait in its socket get their own bytes, and so does the slow client", async () => {
      // The slow pull's reads end with buffers still queued when its blob is at most two buffers
      // more than the kernel holds for a client that does not read (a few MiB on loopback, not
      // known here): sizes 2 MiB apart cover that window.
      const slowBlobs = [3, 5, 7, 9, 11, 13, 15, 17].map((mib) => randomBytes(mib * MiB + 7));
      const slowDigests = await Promise.all(slowBlobs.map((bytes, i) => pushBlob(target, `pool/slow-${i}`, bytes)));
      const others = [randomBytes(9 * MiB + 5), randomBytes(5 * MiB)];
      const otherDigests = await Promise.all(others.map((bytes, i) => pushBlob(target, `pool/other-${i}`, bytes)));

      for (const [i, slowBlob] of slowBlobs.entries()) {
        const slow = await stalledGet(server.url, `/v2/pool/slow-${i}/blobs/${slowDigests[i]}`);
        await new Promise((resolve) => setTimeout(resolve, 100)); // what fits is sent; the rest waits for the socket
        const pulled = await Promise.all(otherDigests.map(async (digest, j) => new Uint8Array(await (await fetch(`${server.url}/v2/pool/other-${j}/blobs/${digest}`)).arrayBuffer())));
        pulled.forEach((bytes, j) => expect(Buffer.from(bytes).equals(Buffer.from(others[j]!))).toBe(true));
        const response = await slow.drain();
        expect(response.subarray(0, 15).toString()).toBe("HTTP/1.1 200 OK");
        expect(bodyOf(response).equals(Buffer.from(slowBlob)), `slow pull of ${slowBlob.byteLength} bytes`).toBe(true);
      }
    });

    it("a client that hangs up mid-pull leaves the pool sound for the pulls after it", async () => {
      const bytes = randomBytes(12 * MiB);
      const digest = await pushBlob(target, "pool/abandoned", bytes);
      for (let round = 0; round < 3; round++) {
        const gone = await stalledGet(server.url, `/v2/pool/abandoned/blobs/${digest}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
        gone.socket.destroy();
        const again = new Uint8Array(await (await fetch(`${server.url}/v2/pool/abandoned/blobs/${digest}`)).arrayBuffer());
        expect(Buffer.from(again).equals(Buffer.from(bytes))).toBe(true);
      }
    });
  });
}
