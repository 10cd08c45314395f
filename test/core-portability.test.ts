// The core must stay portable: src/ may use Web APIs only, never a runtime's own.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";

const RUNTIME_ONLY = [
  /from\s+["'](node:|bun:|cloudflare:)/, // runtime modules
  /from\s+["'](fs|path|crypto|http|stream|os|buffer)["']/, // bare Node built-ins
  /\brequire\(/,
  /\bDeno\.\w/,
  /\bBuffer\.\w/,
  /\bprocess\.\w/,
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith(".ts") ? [join(dir, entry.name)] : [],
  );
}

test("src/ imports no runtime modules and touches no runtime globals", () => {
  const offenders = sourceFiles("src").flatMap((file) =>
    readFileSync(file, "utf8")
      .split("\n")
      .map((line, i) => ({ file, line: i + 1, text: line }))
      .filter(({ text }) => RUNTIME_ONLY.some((pattern) => pattern.test(text))),
  );
  expect(offenders).toEqual([]);
});

test("the pattern list catches what it should", () => {
  const caught = ['import { x } from "node:fs";', "Deno.open(p)", "Buffer.from(x)", "process.env.X"];
  for (const line of caught) expect(RUNTIME_ONLY.some((pattern) => pattern.test(line)), line).toBe(true);
});
