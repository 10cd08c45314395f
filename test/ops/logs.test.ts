/**
 * Logs of the real servers (Node and Deno processes): with --log-format json every line is
 * one JSON object (start-up and shutdown too); one access line per request with its fields;
 * credentials never appear; a client that disconnects mid-PATCH is one quiet line (499,
 * aborted), not a stack trace and not a 200.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import bcrypt from "bcryptjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startProcessServer, until, type ProcessServer } from "./process-server.ts";
import { targetKinds } from "../targets/index.ts";

const PASSWORD = "pa55-w0rd-NEVER-LOGGED";
const TOKEN = "t0ken-NEVER-LOGGED-9f8e7d";
const BASIC = `Basic ${Buffer.from(`alice:${PASSWORD}`).toString("base64")}`;

async function startServer(kind: string, workDir: string, extra: string[]): Promise<ProcessServer> {
  const htpasswdFile = join(workDir, "htpasswd");
  await mkdir(workDir, { recursive: true });
  await writeFile(htpasswdFile, `alice:${bcrypt.hashSync(PASSWORD, 4)}\n`);
  return startProcessServer(kind as "node" | "deno", workDir, extra, { htpasswdFile });
}

/** POST an upload, then send half of a PATCH body and hang up. Returns the upload's path. */
async function disconnectMidPatch(url: string): Promise<string> {
  const post = await fetch(`${url}/v2/logs/app/blobs/uploads/`, { method: "POST", headers: { Authorization: BASIC } });
  expect(post.status).toBe(202);
  const location = post.headers.get("location")!;
  const { port } = new URL(url);
  await new Promise<void>((resolve, reject) => {
    const socket = connect(Number(port), "127.0.0.1", () => {
      socket.write(`PATCH ${location} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: ${BASIC}\r\nContent-Type: application/octet-stream\r\nContent-Length: 10000000\r\n\r\n`);
      socket.write(Buffer.alloc(64 * 1024, 7), () => setTimeout(() => (socket.destroy(), resolve()), 300));
    });
    socket.on("error", reject);
  });
  return new URL(location, url).pathname;
}

for (const kind of targetKinds().filter((k) => k === "node" || k === "deno")) {
  describe(`logs [${kind}]`, () => {
    let workDir: string;
    beforeAll(async () => {
      workDir = await mkdtemp(join(tmpdir(), "berth-logs-"));
    });
    afterAll(() => rm(workDir, { recursive: true, force: true }));

    it("--log-format json: every line is JSON; access lines carry their fields; no credentials; a disconnect mid-PATCH is one quiet 499 line", async () => {
      const server = await startServer(kind, join(workDir, "json"), ["--log-format", "json"]);
      try {
        const ok = await fetch(`${server.url}/v2/`, { headers: { Authorization: BASIC, "User-Agent": "logs-test/1.0" } });
        expect(ok.status).toBe(200);
        const id = ok.headers.get("x-request-id");
        const bearer = await fetch(`${server.url}/v2/`, { headers: { Authorization: `Bearer ${TOKEN}` } });
        expect(bearer.status).toBe(401);
        const wrong = await fetch(`${server.url}/v2/?token=x`, { headers: { Authorization: `Basic ${Buffer.from(`alice:${TOKEN}`).toString("base64")}` } });
        expect(wrong.status).toBe(401);
        const uploadPath = await disconnectMidPatch(server.url);
        await until(() => server.output().some((line) => line.includes(uploadPath) && line.includes('"PATCH"')));
        await server.stop();

        const lines = server.output();
        const records = lines.map((line) => {
          try {
            return JSON.parse(line) as Record<string, unknown>;
          } catch {
            throw new Error(`not a JSON line: ${line}`);
          }
        });
        for (const record of records) {
          expect(typeof record.time).toBe("string");
          expect(["debug", "info", "warn", "error"]).toContain(record.level);
          expect(typeof record.msg).toBe("string");
        }
        expect(records.some((r) => String(r.msg).startsWith("berth listening on"))).toBe(true);
        expect(records.some((r) => String(r.msg).includes("SIGTERM"))).toBe(true);

        const access = records.filter((r) => r.msg === "access");
        const first = access.find((r) => r.requestId === id)!;
        expect(first).toMatchObject({ method: "GET", path: "/v2/", status: 200, user: "alice", client: "127.0.0.1", userAgent: "logs-test/1.0", bytesIn: 0 });
        expect(typeof first.ms).toBe("number");
        expect(typeof first.bytesOut).toBe("number");

        const patchLines = lines.filter((line) => line.includes(uploadPath) && line.includes("PATCH"));
        expect(patchLines).toHaveLength(1);
        expect(JSON.parse(patchLines[0]!)).toMatchObject({ msg: "access", method: "PATCH", status: 499, aborted: true, user: "alice" });
        expect(records.filter((r) => r.level === "error")).toEqual([]);
        const all = lines.join("\n");
        expect(all).not.toMatch(/\n\s+at /); // no stack trace
        for (const secret of [PASSWORD, TOKEN, BASIC.slice(6), Buffer.from(`alice:${TOKEN}`).toString("base64")]) expect(all).not.toContain(secret);
      } finally {
        await server.stop();
      }
    }, 90_000);

    it("--log-format text: one access line per request with client, user, request line, status, bytes, time, agent and id", async () => {
      const server = await startServer(kind, join(workDir, "text"), []);
      try {
        const res = await fetch(`${server.url}/v2/`, { headers: { Authorization: BASIC, "User-Agent": "text-test/2" } });
        expect(res.status).toBe(200);
        const id = res.headers.get("x-request-id")!;
        await until(() => server.output().some((line) => line.includes(id)));
        const line = server.output().find((l) => l.includes(id))!;
        expect(line).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z 127\\.0\\.0\\.1 alice "GET /v2/" 200 0 \\d+ [\\d.]+ms "text-test/2" id=${id}$`));
        expect(server.output().join("\n")).not.toContain(PASSWORD);
      } finally {
        await server.stop();
      }
    }, 90_000);
  });
}
