// Keep-alive GET load: wrk when installed (it is far cheaper per request than any Node
// client), else a small node:http loop (then the client likely caps the figure).
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { request } from "./http.ts";

export interface LoadResult {
  tool: string;
  requests: number;
  rps: number;
  p99ms: number;
  errors: number;
  errorDetail: string;
}

const WRK = ["/usr/bin/wrk", "/usr/local/bin/wrk"].find((p) => existsSync(p));

export function loadTool(): string {
  return WRK ? "wrk" : "node";
}

export function getLoad(url: string, headers: Record<string, string>, connections: number, seconds: number, threads: number): Promise<LoadResult> {
  return WRK ? runWrk(WRK, url, headers, connections, seconds, threads) : runNode(url, headers, connections, seconds);
}

function runWrk(bin: string, url: string, headers: Record<string, string>, c: number, s: number, t: number): Promise<LoadResult> {
  const args = [`-t${t}`, `-c${c}`, `-d${s}s`, "--latency", "--timeout", "5s"];
  for (const [k, v] of Object.entries(headers)) args.push("-H", `${k}: ${v}`);
  args.push(url);
  return new Promise((resolve, reject) => {
    execFile(bin, args, { timeout: (s + 30) * 1000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`wrk failed: ${err.message} ${stderr}`));
      resolve(parseWrk(stdout));
    });
  });
}

const UNIT: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

export function parseWrk(out: string): LoadResult {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN);
  const p99 = /\s99%\s+([\d.]+)(us|ms|s|m)\b/.exec(out);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const sockErrors = sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
  const detail = [non2xx ? `${non2xx} non-2xx` : "", sock && sockErrors ? sock[0] : ""].filter(Boolean).join("; ");
  if (!Number.isFinite(rps)) throw new Error(`cannot parse wrk output: ${out}`);
  return {
    tool: "wrk",
    requests,
    rps,
    p99ms: p99 ? Number(p99[1]) * UNIT[p99[2]] : NaN,
    errors: non2xx + sockErrors,
    errorDetail: detail,
  };
}

async function runNode(url: string, headers: Record<string, string>, connections: number, seconds: number): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  let detail = "";
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        try {
          const r = await request(url, { method: "GET", headers, consume: "discard" });
          if (r.status !== 200) { errors++; detail = `status ${r.status}`; }
        } catch (e) {
          errors++;
          detail = String(e);
        }
        latencies.push(performance.now() - t);
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    tool: "node",
    requests: latencies.length,
    rps: latencies.length / elapsed,
    p99ms: latencies[Math.floor(latencies.length * 0.99)] ?? NaN,
    errors,
    errorDetail: detail,
  };
}
