/**
 * SIGTERM on Node and Deno, over HTTP and HTTPS (the one server in runtimes/shared/http-server.ts):
 * an in-flight PATCH finishes 202, a request pipelined behind it (what arrives on a busy
 * connection during the drain) gets 503 UNAVAILABLE (OCI JSON, connection: close), idle
 * kept-alive connections are closed at once, and the process exits 0.
 */
import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { denoBinary } from "./lib/berth-command.ts";
import { startProcessServer, until } from "./ops/process-server.ts";
import { makeCa, makeServerCert } from "./e2e/lib/tls.ts";

const runtimes = (["node", "deno"] as const).filter((runtime) => runtime === "node" || denoBinary() !== null || process.env.REQUIRE_CLIENTS);

for (const runtime of runtimes) {
  for (const scheme of ["http", "https"] as const) {
    describe(`graceful shutdown on ${runtime} over ${scheme}`, () => {
      let tlsArgs: string[] = [];
      let ca: Buffer | undefined;
      beforeAll(async () => {
        if (scheme === "http") return;
        const dir = mkdtempSync(join(tmpdir(), "berth-shutdown-tls-"));
        const authority = await makeCa(dir);
        const cert = await makeServerCert(authority, dir, "s");
        tlsArgs = ["--tls-cert", cert.chain, "--tls-key", cert.key];
        ca = readFileSync(authority.cert);
      }, 60_000);

      it("SIGTERM: the in-flight PATCH finishes 202, a request pipelined behind it gets 503 UNAVAILABLE, idle connections close, exit 0", async () => {
        const dir = mkdtempSync(join(tmpdir(), `berth-shutdown-${runtime}-`));
        const server = await startProcessServer(runtime, dir, ["--quiet", ...tlsArgs], { readable: tlsArgs.filter((_, i) => i % 2 === 1) });
        const { hostname, port } = new URL(server.url);
        const open = () => new Promise<Socket>((resolve, reject) => {
          const socket: Socket = scheme === "https" ? tlsConnect({ host: hostname, port: Number(port), ca }, () => resolve(socket)) : netConnect({ host: hostname, port: Number(port) }, () => resolve(socket));
          socket.once("error", reject);
        });
        const idle = await open();
        idle.write(`GET /v2/ HTTP/1.1\r\nHost: ${hostname}\r\n\r\n`);
        const idleClosed = new Promise<void>((resolve) => idle.once("close", () => resolve()));
        const first = await new Promise<string>((resolve) => idle.once("data", (chunk: Buffer) => resolve(chunk.toString())));
        expect(first).toMatch(/^HTTP\/1\.1 200/);

        const socket = await open();
        let received = "";
        socket.on("data", (chunk: Buffer) => (received += chunk.toString("latin1")));
        const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
        socket.write(`POST /v2/graceful/repo/blobs/uploads/ HTTP/1.1\r\nHost: ${hostname}\r\nContent-Length: 0\r\n\r\n`);
        await until(() => /\r\n\r\n/.test(received), 10_000);
        const location = /location: (\S+)/i.exec(received)![1]!;
        received = "";
        const half = Buffer.alloc(64 * 1024, 7);
        socket.write(`PATCH ${location} HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${half.length * 2}\r\n\r\n`);
        socket.write(half);
        await new Promise((r) => setTimeout(r, 300));
        const exited = new Promise<number | null>((resolve) => server.child.once("exit", (code) => resolve(code)));
        server.child.kill("SIGTERM");
        await idleClosed; // an idle kept-alive connection is closed at once
        await new Promise((r) => setTimeout(r, 300));
        socket.write(Buffer.concat([half, Buffer.from(`GET /v2/ HTTP/1.1\r\nHost: ${hostname}\r\n\r\n`)]));
        await closed; // the 503 says connection: close
        const answers = received.split(/(?=HTTP\/1\.1 )/);
        expect(answers.map((answer) => answer.slice(0, 12))).toEqual(["HTTP/1.1 202", "HTTP/1.1 503"]);
        expect(answers[1]).toMatch(/connection: close/i);
        expect(answers[1]).toContain('"code":"UNAVAILABLE"');
        expect(await exited).toBe(0);
      }, 60_000);
    });
  }
}
