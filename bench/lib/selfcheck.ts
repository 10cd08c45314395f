// Client self-check: the harness's own HTTP client pushing to a discard sink and pulling
// (with byte verification) from a source, both in a separate Node process. If these
// figures are not well above the registries', the client caps the results.
import { writeFileSync } from "node:fs";
import path from "node:path";
import type { BlobFactory } from "./data.ts";
import { rawGet } from "./raw-get.ts";
import { pushStreamed } from "./registry.ts";
import { startProcess } from "./servers.ts";

const SINK = `
const http = require("node:http"), fs = require("node:fs");
const block = fs.readFileSync(process.argv[1]);
const srv = http.createServer((req, res) => {
  if (req.method === "GET") {
    const n = Number(new URL(req.url, "http://x").searchParams.get("size")) || 0;
    res.writeHead(200, { "content-length": n });
    let off = 0;
    const pump = () => {
      while (off < n) {
        const pos = off % block.length;
        const c = block.subarray(pos, Math.min(block.length, pos + (1 << 20), pos + n - off));
        off += c.length;
        if (!res.write(c)) return void res.once("drain", pump);
      }
      res.end();
    };
    return pump();
  }
  req.on("data", () => {});
  req.on("end", () => {
    const status = req.method === "PUT" ? 201 : 202;
    res.writeHead(status, { location: "/v2/sink/blobs/uploads/x", "content-length": 0 });
    res.end();
  });
});
srv.listen(0, "127.0.0.1", () => console.log("listening on http://127.0.0.1:" + srv.address().port));
`;

export interface ClientCheck {
  send_MBps: number; // pushing to the sink (PATCH, chunked)
  receive_MBps: number; // pulling from the source, with the same checks as blob pulls
  /** MB per second of client CPU time: what the client could do with a core of its own. */
  send_capacity_MBps: number;
  receive_capacity_MBps: number;
}

export async function clientSelfCheck(factory: BlobFactory, bytes: number, tmp: string): Promise<ClientCheck> {
  const blockFile = path.join(tmp, "block.bin");
  writeFileSync(blockFile, factory.block);
  const sink = await startProcess("sink", process.execPath, ["-e", SINK, blockFile], {
    repoDir: tmp,
    logFile: path.join(tmp, "sink.log"),
    nodeFlags: [],
  }, { announce: /listening on (http:\/\/[^\s]+)/ });
  const measure = async (fn: () => Promise<void>): Promise<[number, number]> => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await fn();
    const wall = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    return [bytes / 1e6 / wall, bytes / 1e6 / ((c.user + c.system) / 1e6)];
  };
  try {
    const blob = factory.plain(bytes);
    const send: [number, number][] = [];
    const recv: [number, number][] = [];
    for (let i = 0; i < 3; i++) {
      send.push(await measure(() => pushStreamed(sink.url, "sink", blob)));
      recv.push(await measure(async () => {
        let ok = true;
        const r = await rawGet(`${sink.url}/source?size=${bytes}`, {}, (chunk, at) => { if (ok) ok = blob.matches(at, chunk); });
        if (r.received !== bytes || !ok) throw new Error("client self-check: source bytes differ");
      }));
    }
    const med = (xs: [number, number][], i: 0 | 1) => xs.map((x) => x[i]).sort((a, b) => a - b)[1];
    return {
      send_MBps: med(send, 0),
      receive_MBps: med(recv, 0),
      send_capacity_MBps: med(send, 1),
      receive_capacity_MBps: med(recv, 1),
    };
  } finally {
    await sink.stop();
  }
}
