/**
 * Start-up loads only what serving needs (README, Performance): `berth serve` from dist/
 * with no config file never imports the YAML parser, bcryptjs, the S3 client or the GC
 * modules; they load when a YAML document, a password, a bucket or `gc` needs them.
 * A module hook records every module Node loads, to a file, until the server listens.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
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

const LAZY = [/node_modules\/yaml\//, /node_modules\/bcryptjs\//, /node_modules\/aws4fetch\//, /dist\/src\/storage\/s3\//, /dist\/src\/lifecycle\/index\.js$/];

describe("berth serve start-up imports", () => {
  it("no config file: none of the YAML parser, bcryptjs, the S3 client, the GC commands", async () => {
    const loaded = await modulesUntilListening([]);
    expect(loaded.some((url) => url.endsWith("/dist/src/handler.js"))).toBe(true);
    expect(loaded.filter((url) => LAZY.some((pattern) => pattern.test(url)))).toEqual([]);
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
