/**
 * Start-up loads only what serving needs (README, Performance): `berth serve` from dist/
 * with no config file never imports the YAML parser, bcryptjs, the S3 client or the GC
 * modules; they load when a YAML document, a password, a bucket or `gc` needs them.
 * A module hook records every module Node loads, to a file, until the server listens.
 * bin/berth.mjs runs the bundle in dist/bundle/ (scripts/bundle-cli.mjs); the source modules
 * in each loaded bundle file are read from the `// src/...` markers esbuild writes there.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { berthServeCommand } from "./lib/berth-command.ts";
import { parseDocument } from "../src/config/document.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "berth-imports-"));
  await writeFile(join(dir, "hooks.mjs"), `import { appendFileSync } from "node:fs";
export async function load(url, context, next) { appendFileSync(${JSON.stringify(join(dir, "loaded.txt"))}, url + "\\n"); return next(url, context); }\n`);
  await writeFile(join(dir, "register.mjs"), `import { register } from "node:module"; register(${JSON.stringify(pathToFileURL(join(dir, "hooks.mjs")).href)});\n`);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** The modules loaded by `berth serve` until it listens (then it is stopped). */
async function modulesUntilListening(extraArgs: string[]): Promise<string[]> {
  await rm(join(dir, "loaded.txt"), { force: true });
  const { cmd, args, env } = berthServeCommand("node", { root: join(dir, "root"), port: 0, nodeFlags: ["--import", join(dir, "register.mjs")], extraArgs });
  const child = spawn(cmd, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not listening within 30 s: ${output}`)), 30_000);
    for (const stream of [child.stdout, child.stderr]) {
      stream.setEncoding("utf8").on("data", (chunk: string) => {
        output += chunk;
        if (/berth listening on/.test(output)) clearTimeout(timer), resolve();
      });
    }
    child.once("exit", (code) => reject(new Error(`exited ${code}: ${output}`)));
  });
  child.kill("SIGTERM");
  return (await readFile(join(dir, "loaded.txt"), "utf8")).split("\n").filter(Boolean);
}

/** The source modules bundled into the loaded dist/bundle/ files, e.g. "src/handler.ts". */
async function bundledSources(loaded: string[]): Promise<string[]> {
  const files = loaded.filter((url) => url.includes("/dist/bundle/"));
  const texts = await Promise.all(files.map((url) => readFile(fileURLToPath(url), "utf8")));
  return texts.flatMap((text) => [...text.matchAll(/^\/\/ ((?:src|runtimes)\/\S+\.ts)$/gm)].map((m) => m[1]!));
}

const LAZY_PACKAGES = [/node_modules\/yaml\//, /node_modules\/bcryptjs\//, /node_modules\/aws4fetch\//];
const LAZY_SOURCES = [/^src\/storage\/s3\//, /^src\/lifecycle\/index\.ts$/];

describe("berth serve start-up imports", () => {
  it("no config file: one bundle without the S3 store or the GC commands; no YAML parser, bcryptjs, S3 client", async () => {
    const loaded = await modulesUntilListening([]);
    const sources = await bundledSources(loaded);
    expect(sources).toContain("src/handler.ts");
    expect(sources).toContain("runtimes/node/cli.ts");
    expect(sources.filter((path) => LAZY_SOURCES.some((pattern) => pattern.test(path)))).toEqual([]);
    expect(loaded.filter((url) => LAZY_PACKAGES.some((pattern) => pattern.test(url)))).toEqual([]);
    // The compiled one-file-per-module tree (dist/src, dist/runtimes) is the library's, not the CLI's.
    expect(loaded.filter((url) => /\/dist\/(src|runtimes)\//.test(url))).toEqual([]);
  });

  it("the S3 store and the GC commands are in chunks of their own (loaded when a bucket or gc needs them)", async () => {
    // Only the chunks cli.js imports with import(): the folder may also hold chunks of older builds.
    const bundleDir = fileURLToPath(new URL("../dist/bundle/", import.meta.url));
    const cli = await readFile(join(bundleDir, "cli.js"), "utf8");
    const lazyChunks = [...cli.matchAll(/\bimport\("\.\/([^"]+\.js)"\)/g)].map((m) => pathToFileURL(join(bundleDir, m[1]!)).href);
    const lazy = await bundledSources(lazyChunks);
    expect(lazy).toContain("src/storage/s3/store.ts");
    expect(lazy).toContain("src/lifecycle/index.ts");
  });

  it("a YAML config file: the YAML parser loads (and only then)", async () => {
    await writeFile(join(dir, "berth.yaml"), "server:\n  accessLog: false\n");
    const loaded = await modulesUntilListening(["--config", join(dir, "berth.yaml")]);
    expect(loaded.some((url) => /node_modules\/yaml\//.test(url))).toBe(true);
  });

  it("a JSON config file is read without the YAML parser", async () => {
    await writeFile(join(dir, "berth.json"), '{"server": {"accessLog": false}}');
    const loaded = await modulesUntilListening(["--config", join(dir, "berth.json")]);
    expect(loaded.filter((url) => /node_modules\/yaml\//.test(url))).toEqual([]);
  });
});

describe("parseDocument: JSON directly, anything else through YAML", () => {
  it("JSON, flow-style YAML and block YAML give the same data; a broken one names the reason", async () => {
    const want = { server: { port: 6001 }, list: [1, "a"] };
    expect(await parseDocument('{"server": {"port": 6001}, "list": [1, "a"]}')).toEqual(want);
    expect(await parseDocument("{server: {port: 6001}, list: [1, a]}")).toEqual(want);
    expect(await parseDocument("server:\n  port: 6001\nlist: [1, a]\n")).toEqual(want);
    await expect(parseDocument("server: [\n")).rejects.toThrow(/^not valid YAML or JSON: /);
    await expect(parseDocument('{"server": ')).rejects.toThrow(/^not valid YAML or JSON: /);
  });
});
