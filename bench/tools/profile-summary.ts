// npx tsx bench/tools/profile-summary.ts FILE.cpuprofile [...]  (from `npm run bench -- --cpu-prof`)
// Prints where CPU time went: self time by function and by file, idle excluded.
import { readFileSync } from "node:fs";

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface Profile { nodes: Node[]; samples: number[]; timeDeltas: number[] }

const byFn = new Map<string, number>();
const byFile = new Map<string, number>();
let total = 0;
let idle = 0;
const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
const short = (url: string) => url.replace(/^file:\/\//, "").replace(/^.*\/(node_modules|runtimes|src|bench)\//, "$1/") || "(native)";

for (const file of process.argv.slice(2)) {
  const p = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const nodes = new Map(p.nodes.map((n) => [n.id, n]));
  p.samples.forEach((id, i) => {
    const n = nodes.get(id)!;
    const us = p.timeDeltas[i] ?? 0;
    const fn = n.callFrame.functionName || "(anonymous)";
    if (fn === "(idle)") { idle += us; return; }
    total += us;
    add(byFn, `${fn}  ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`, us);
    add(byFile, short(n.callFrame.url) || fn, us);
  });
}
const top = (m: Map<string, number>, n: number) =>
  [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => `${((100 * v) / total).toFixed(1).padStart(5)}%  ${(v / 1000).toFixed(0).padStart(6)} ms  ${k}`).join("\n");
console.log(`busy ${(total / 1000).toFixed(0)} ms, idle ${(idle / 1000).toFixed(0)} ms\n\nself time by function:\n${top(byFn, 25)}\n\nself time by file:\n${top(byFile, 15)}`);
