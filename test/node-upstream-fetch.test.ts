/**
 * How Berth on Node fetches upstream blobs (runtimes/node/upstream-fetch.ts, bulk-get.ts): over
 * real loopback sockets from servers that write raw HTTP/1.1, so each framing is what the
 * test says: Content-Length, chunked, until close; redirects (Authorization dropped on a
 * cross-origin hop), a body cut short, a refused connection, a 100 Continue before the head, HTTPS.
 */
import { createHash } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer as createHttpsServer } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { fetchUpstream } from "../runtimes/node/upstream-fetch.ts";
import { makeCa, makeServerCert } from "./e2e/lib/tls.ts";

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
});

/** A server answering each connection with `answer(requestHead, socket)`. */
async function rawServer(answer: (head: string, socket: Socket) => void): Promise<string> {
  const server = createServer((socket) => {
    let head = "";
    socket.on("data", (chunk) => {
      head += chunk.toString("latin1");
      if (head.includes("\r\n\r\n")) answer(head, socket);
    });
    socket.on("error", () => {});
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const blob = Buffer.alloc(3 * 1024 * 1024 + 123);
for (let i = 0; i < blob.length; i++) blob[i] = (i * 7 + (i >> 12)) & 0xff;
const digestOf = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const BLOB_PATH = "/v2/lib/app/blobs/sha256:" + digestOf(blob);

async function readAll(response: Response): Promise<{ bytes: Buffer; chunks: number }> {
  const parts: Uint8Array[] = [];
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) parts.push(chunk);
  return { bytes: Buffer.concat(parts), chunks: parts.length };
}

describe("fetchUpstream (Node) for blob GETs", () => {
  it("GET with Content-Length, written in small pieces: every byte, in chunks of up to 1 MiB", async () => {
    const base = await rawServer((_, socket) => {
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${blob.length}\r\nDocker-Content-Digest: x\r\n\r\n`);
      for (let at = 0; at < blob.length; at += 16 * 1024) socket.write(blob.subarray(at, at + 16 * 1024));
      socket.end();
    });
    const response = await fetchUpstream(new Request(base + BLOB_PATH));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-length")).toBe(String(blob.length));
    const { bytes, chunks } = await readAll(response);
    expect(digestOf(bytes)).toBe(digestOf(blob));
    expect(chunks).toBeLessThan(blob.length / (16 * 1024)); // gathered, not one chunk per read
  });

  it("GET with a chunked body and a 100 Continue first: the bytes without the framing", async () => {
    const base = await rawServer((_, socket) => {
      socket.write("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
      for (let at = 0; at < blob.length; at += 300_000) {
        const piece = blob.subarray(at, at + 300_000);
        socket.write(`${piece.length.toString(16)};ext=1\r\n`);
        socket.write(piece);
        socket.write("\r\n");
      }
      socket.end("0\r\n\r\n");
    });
    const { bytes } = await readAll(await fetchUpstream(new Request(base + BLOB_PATH)));
    expect(digestOf(bytes)).toBe(digestOf(blob));
  });

  it("GET with neither: the body runs until the connection closes", async () => {
    const base = await rawServer((_, socket) => {
      socket.write("HTTP/1.1 200 OK\r\n\r\n");
      socket.end(blob);
    });
    const { bytes } = await readAll(await fetchUpstream(new Request(base + BLOB_PATH)));
    expect(digestOf(bytes)).toBe(digestOf(blob));
  });

  it("a body cut short errors the stream (never a short blob)", async () => {
    const base = await rawServer((_, socket) => {
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${blob.length}\r\n\r\n`);
      socket.end(blob.subarray(0, 1_000_000));
    });
    const response = await fetchUpstream(new Request(base + BLOB_PATH));
    await expect(readAll(response)).rejects.toThrow(/closed before the end of the body/);
  });

  it("a redirect to another origin is followed without the Authorization header; the same origin keeps it", async () => {
    const seen: string[] = [];
    const cdn = await rawServer((head, socket) => {
      seen.push(`cdn ${/authorization: (.*)/i.exec(head)?.[1] ?? "none"}`);
      socket.end(`HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello`);
    });
    const registry = await rawServer((head, socket) => {
      seen.push(`registry ${head.split(" ")[1]} ${/authorization: (.*)/i.exec(head)?.[1]?.trim() ?? "none"}`);
      if (head.startsWith(`GET ${BLOB_PATH} `)) socket.end(`HTTP/1.1 307 Temporary Redirect\r\nLocation: /v2/lib/app/blobs/moved\r\nContent-Length: 0\r\n\r\n`);
      else socket.end(`HTTP/1.1 302 Found\r\nLocation: ${cdn}/blob?sig=1\r\nContent-Length: 3\r\n\r\nabc`);
    });
    const response = await fetchUpstream(new Request(registry + BLOB_PATH, { headers: { Authorization: "Bearer t0ken" } }));
    expect([response.status, await response.text()]).toEqual([200, "hello"]);
    expect(seen).toEqual([`registry ${BLOB_PATH} Bearer t0ken`, "registry /v2/lib/app/blobs/moved Bearer t0ken", "cdn none"]);
  });

  it("a refused connection rejects with the socket's code; an error answer keeps its status and body", async () => {
    const base = await rawServer(() => {});
    const port = new URL(base).port;
    await new Promise((resolve) => servers.pop()!.close(resolve));
    await expect(fetchUpstream(new Request(`http://127.0.0.1:${port}${BLOB_PATH}`))).rejects.toMatchObject({ code: "ECONNREFUSED" });
    const failing = await rawServer((_, socket) => socket.end(`HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{"errors":[]}`));
    const response = await fetchUpstream(new Request(failing + BLOB_PATH));
    expect([response.status, response.headers.get("content-type"), await response.text()]).toEqual([404, "application/json", '{"errors":[]}']);
  });

  it("an aborted signal ends a request whose answer never comes", async () => {
    const base = await rawServer(() => {}); // reads the request, never answers
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    await expect(fetchUpstream(new Request(base + BLOB_PATH, { signal: controller.signal }))).rejects.toThrow();
  });

  it("HTTPS: the certificate is verified against the CAs Node trusts (NODE_EXTRA_CA_CERTS here), the body arrives whole", async () => {
    const dir = mkdtempSync(join(tmpdir(), "berth-bulk-tls-"));
    try {
      const ca = await makeCa(dir);
      const cert = await makeServerCert(ca, dir, "upstream");
      const server = createHttpsServer({ cert: readFileSync(cert.chain), key: readFileSync(cert.key) }, (_, res) => {
        res.writeHead(200, { "Content-Length": String(blob.length) });
        res.end(blob);
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      servers.push(server as unknown as Server);
      const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}${BLOB_PATH}`;
      // A child process: Node reads NODE_EXTRA_CA_CERTS at startup only. dist/ is built by the test setup.
      const script = `const { fetchUpstream } = await import(${JSON.stringify(new URL("../dist/runtimes/node/upstream-fetch.js", import.meta.url).href)});
        try { const r = await fetchUpstream(new Request(${JSON.stringify(url)}));
          const h = (await import("node:crypto")).createHash("sha256"); for await (const c of r.body) h.update(c);
          console.log(r.status, h.digest("hex")); } catch (e) { console.log("failed", e.code); }`;
      const runChild = (env: NodeJS.ProcessEnv) => new Promise<string>((resolve, reject) =>
        execFile(process.execPath, ["--input-type=module", "-e", script], { env }, (error, stdout) => (error ? reject(error) : resolve(stdout.trim()))));
      expect(await runChild({ ...process.env, NODE_EXTRA_CA_CERTS: ca.cert })).toBe(`200 ${digestOf(blob)}`);
      expect(await runChild({ ...process.env, NODE_EXTRA_CA_CERTS: "" })).toBe("failed SELF_SIGNED_CERT_IN_CHAIN") // the server sends its chain; its root is trusted by nobody;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
