/**
 * Client disconnects on Workers (real workerd through Miniflare, `enable_request_signal` from
 * wrangler.toml): a client that hangs up mid-PATCH is one quiet access line (499, aborted),
 * no "unexpected error" and no stack. A download abandoned midway is one access line without
 * an error; whether it is marked aborted depends on how much of the body workerd had already
 * taken from the Worker when the client left (in CI it had taken all 32 MiB once, so it is
 * not asserted: see README, Workers, "Client disconnects").
 */
import { connect } from "node:net";
import { describe, expect, it } from "vitest";
import { targetKinds } from "../targets/index.ts";
import { startWorker } from "../workers/bundle.ts";
import { pushBlob, randomBytes, uniqueName } from "../http/helpers.ts";
import { until } from "./process-server.ts";

/** Send `head` and `bodyBytes` of a body, then hang up (after reading `readFirst` response bytes, if asked). */
function hangUp(url: string, head: string, bodyBytes: number, readFirst = false): Promise<void> {
  const { port } = new URL(url);
  return new Promise<void>((resolve, reject) => {
    const socket = connect(Number(port), "127.0.0.1", () => {
      socket.write(head);
      // Stop reading at the first bytes: the body then cannot drain into socket buffers and
      // complete before the hang-up (loopback buffers hold several MiB).
      if (readFirst) socket.once("data", () => (socket.pause(), setTimeout(() => (socket.destroy(), resolve()), 50)));
      else socket.write(Buffer.alloc(bodyBytes, 7), () => setTimeout(() => (socket.destroy(), resolve()), 300));
    });
    socket.on("error", reject);
  });
}

describe.skipIf(!targetKinds().includes("worker"))("client disconnects [worker]", () => {
  it("a disconnect mid-PATCH is one quiet 499 access line; an abandoned blob GET is one access line without an error", async () => {
    const lines: string[] = [];
    const worker = await startWorker("runtimes/cloudflare/worker.ts", { BERTH_LOG_FORMAT: "json" }, undefined, true, (line) => lines.push(line));
    try {
      const host = new URL(worker.url).host;
      const name = uniqueName("wdisc");
      const post = await fetch(`${worker.url}/v2/${name}/blobs/uploads/`, { method: "POST" });
      expect(post.status).toBe(202);
      const location = new URL(post.headers.get("location")!, worker.url).pathname;
      await hangUp(worker.url, `PATCH ${location} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/octet-stream\r\nContent-Length: 10000000\r\n\r\n`, 64 * 1024);
      const records = () => lines.filter((line) => line.startsWith("{")).map((line) => JSON.parse(line) as Record<string, unknown>);
      await until(() => records().some((r) => r.msg === "access" && r.method === "PATCH"));

      const big = randomBytes(32 * 1024 * 1024); // well past what socket buffers hold
      const digest = await pushBlob({ name: "worker", fetch: (path, init) => fetch(worker.url + path, init), close: async () => {}, lifecycle: async () => "" }, name, big);
      await hangUp(worker.url, `GET /v2/${name}/blobs/${digest} HTTP/1.1\r\nHost: ${host}\r\n\r\n`, 0, true);
      const blobPath = `/v2/${name}/blobs/${digest}`;
      await until(() => records().some((r) => r.msg === "access" && r.method === "GET" && r.path === blobPath));

      const patch = records().filter((r) => r.msg === "access" && r.path === location && r.method === "PATCH");
      expect(patch).toHaveLength(1);
      expect(patch[0]).toMatchObject({ status: 499, aborted: true });
      const download = records().filter((r) => r.msg === "access" && r.path === blobPath);
      expect(download).toHaveLength(1);
      expect(download[0]).toMatchObject({ method: "GET", status: 200 });
      expect(records().filter((r) => r.level === "error")).toEqual([]);
      expect(lines.join("\n")).not.toMatch(/unexpected error|\n\s+at /);
    } finally {
      await worker.close();
    }
  }, 90_000);
});
