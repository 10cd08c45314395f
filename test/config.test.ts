/**
 * The one configuration (src/config): the same table read from flags, BERTH_* variables and
 * a YAML/JSON file, with every bad value stopping the program with a message naming where it
 * came from. The CLI test at the end runs the real `berth` command.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseArgv, resolveConfig } from "../src/config/load.ts";
import { registryOptionsFrom } from "../src/config/registry-options.ts";
import { ConfigError, parseDuration } from "../src/config/values.ts";
import { MemoryStore } from "../src/storage/memory.ts";
import { VERSION } from "../src/version.ts";

const fromArgv = async (argv: string[], env: Record<string, string> = {}, file?: string) =>
  resolveConfig({ flags: parseArgv(argv).flags, env: (name) => env[name], file: file === undefined ? undefined : { text: file, name: "berth.yaml" } });

describe("configuration: defaults < file < BERTH_* < flags", () => {
  it("defaults", async () => {
    const config = await fromArgv(["serve"]);
    expect(config.storage.root).toBe("./data");
    expect(config.server).toEqual({ host: "127.0.0.1", port: 5000, accessLog: true, trustProxy: false, http2: false, workers: 1 });
    expect(config.uploads.expiry).toBe(86_400_000);
    expect(config.manifests.maxBytes).toBe(4 * 1024 * 1024);
    expect(config.auth).toEqual({
      anonymousPull: false,
      readOnlyUsers: [],
      reloadInterval: 3000,
      realm: "Berth",
      token: { lifetime: 300_000, refreshLifetime: 30 * 86_400_000, issuer: "berth", service: "berth" },
    });
  });

  it("the file sets, the environment overrides it, flags override both", async () => {
    const file = "storage:\n  root: /file\nserver:\n  port: 7000\n  host: 0.0.0.0\nuploads:\n  expiry: 30m\nauth:\n  readOnlyUsers: [ann, bob]\n";
    const config = await fromArgv(["serve", "--port", "7002"], { BERTH_PORT: "7001", BERTH_ROOT: "/env" }, file);
    expect(config.storage.root).toBe("/env");
    expect(config.server.port).toBe(7002);
    expect(config.server.host).toBe("0.0.0.0");
    expect(config.uploads.expiry).toBe(30 * 60_000);
    expect(config.auth.readOnlyUsers).toEqual(["ann", "bob"]);
  });

  it("JSON is YAML: a JSON config file reads the same", async () => {
    expect(await fromArgv(["serve"], {}, '{"server": {"port": 6001}, "manifests": {"maxBytes": "1MiB"}}')).toMatchObject({ server: { port: 6001 }, manifests: { maxBytes: 1024 * 1024 } });
  });

  it("booleans: --flag, --no-flag, --flag=false, BERTH_*=0, --quiet", async () => {
    expect((await fromArgv(["serve", "--no-access-log"])).server.accessLog).toBe(false);
    expect((await fromArgv(["serve", "--quiet"])).server.accessLog).toBe(false);
    expect((await fromArgv(["serve"], { BERTH_ACCESS_LOG: "0" })).server.accessLog).toBe(false);
    expect((await fromArgv(["serve", "--access-log=false"])).server.accessLog).toBe(false);
    expect((await fromArgv(["serve", "--anonymous-pull"])).auth.anonymousPull).toBe(true);
  });

  it("--workers N, BERTH_WORKERS, server.workers; 0 means one per core (resolved by the runtime)", async () => {
    expect((await fromArgv(["serve", "--workers", "4"])).server.workers).toBe(4);
    expect((await fromArgv(["serve"], { BERTH_WORKERS: "0" })).server.workers).toBe(0);
    expect((await fromArgv(["serve"], {}, "server:\n  workers: 2\n")).server.workers).toBe(2);
  });

  it("durations and sizes", async () => {
    expect(parseDuration("1h30m", "x")).toBe(5_400_000);
    expect(parseDuration("250ms", "x")).toBe(250);
    expect(parseDuration("86400", "x")).toBe(86_400_000);
    expect((await fromArgv(["serve", "--max-manifest-size", "512k"])).manifests.maxBytes).toBe(512 * 1024);
  });

  it("Workers: a file option from a variable holds the contents", async () => {
    const config = await resolveConfig({ env: (name) => (name === "BERTH_HTPASSWD" ? "alice:$2y$05$x" : undefined), envHoldsContents: true });
    expect(config.auth.htpasswd).toEqual({ text: "alice:$2y$05$x" });
  });
});

describe("configuration errors name their source", () => {
  const message = async (fn: () => unknown) => {
    try {
      await fn();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as Error).message;
    }
    throw new Error("expected a ConfigError");
  };

  it("flags", async () => {
    expect(await message(() => fromArgv(["start"]))).toBe('unknown command "start" (commands: serve, gc, du)');
    expect(await message(() => fromArgv([]))).toBe("no command given (commands: serve, gc, du)");
    expect(await message(() => fromArgv(["serve", "--nope"]))).toBe("unknown option --nope (see --help)");
    expect(await message(() => fromArgv(["serve", "--port", "70000"]))).toBe('--port: expected a port number 0-65535, got "70000"');
    expect(await message(() => fromArgv(["serve", "--port"]))).toBe("--port needs a value (N)");
    expect(await message(() => fromArgv(["serve", "--upload-expiry", "soon"]))).toContain("--upload-expiry: expected a duration");
    expect(await message(() => fromArgv(["serve", "extra"]))).toBe('unexpected argument "extra"');
    expect(await message(() => fromArgv(["serve", "--workers", "65"]))).toBe("--workers: expected 0 (one per CPU core) to 64 processes, got 65");
    expect(await message(() => fromArgv(["serve", "--workers", "-1"]))).toBe('--workers: expected a whole number, got "-1"');
    expect(await message(() => fromArgv(["serve"], { BERTH_WORKERS: "two" }))).toBe('BERTH_WORKERS: expected a whole number, got "two"');
  });

  it("variables: the message names the variable, not the flag", async () => {
    expect(await message(() => fromArgv(["serve"], { BERTH_PORT: "http" }))).toBe('BERTH_PORT: expected a port number 0-65535, got "http"');
    expect(await message(() => fromArgv(["serve"], { BERTH_ANONYMOUS_PULL: "maybe" }))).toBe('BERTH_ANONYMOUS_PULL: expected true or false, got "maybe"');
  });

  it("the file: unknown keys, bad values, bad syntax", async () => {
    expect(await message(() => fromArgv(["serve"], {}, "server:\n  prot: 1\n"))).toBe("berth.yaml: server.prot: unknown option");
    expect(await message(() => fromArgv(["serve"], {}, "server:\n  port: -1\n"))).toBe("berth.yaml: server.port: expected a port number 0-65535, got -1");
    expect(await message(() => fromArgv(["serve"], {}, "server: [\n"))).toMatch(/^berth\.yaml: not valid YAML or JSON/);
    expect(await message(() => fromArgv(["serve"], {}, "- a\n"))).toBe("berth.yaml: expected a mapping of options at the top level");
  });

  it("auth options without users stop the start", async () => {
    const store = new MemoryStore();
    const readText = async () => "";
    await expect(registryOptionsFrom(await fromArgv(["serve", "--anonymous-pull"]), { store, readText })).rejects.toThrow("--anonymous-pull needs users: give --htpasswd FILE");
    await expect(registryOptionsFrom(await fromArgv(["serve", "--read-only", "ann"]), { store, readText })).rejects.toThrow("--read-only needs users");
  });

  it("web UI and CORS: --no-ui, BERTH_UI, --cors-origins; an origin with a path stops the start", async () => {
    const store = new MemoryStore();
    const readText = async () => "";
    expect((await fromArgv(["serve"])).ui.enabled).toBe(true);
    expect((await fromArgv(["serve"])).cors.origins).toEqual([]);
    expect((await fromArgv(["serve", "--no-ui"])).ui.enabled).toBe(false);
    expect((await fromArgv(["serve"], { BERTH_UI: "false" })).ui.enabled).toBe(false);
    expect((await fromArgv(["serve"], {}, "ui:\n  enabled: false\n")).ui.enabled).toBe(false);
    const cors = await fromArgv(["serve"], { BERTH_CORS_ORIGINS: "https://ui.example.com,http://127.0.0.1:8080" });
    expect(cors.cors.origins).toEqual(["https://ui.example.com", "http://127.0.0.1:8080"]);
    const options = await registryOptionsFrom(await fromArgv(["serve", "--no-ui", "--cors-origins", "*"]), { store, readText });
    expect([options.ui, options.corsOrigins]).toEqual([false, ["*"]]);
    await expect(registryOptionsFrom(await fromArgv(["serve", "--cors-origins", "https://ui.example.com/app"]), { store, readText }))
      .rejects.toThrow("--cors-origins (cors.origins): not an origin like https://ui.example.com or *: https://ui.example.com/app");
  });
});

describe("the berth command", () => {
  const BIN = fileURLToPath(new URL("../bin/berth.mjs", import.meta.url));
  const berth = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", env: { ...process.env, BERTH_CONFIG: "" } });

  it("berth start: exit 2, says why", () => {
    const result = berth("start");
    expect(result.status).toBe(2);
    expect(result.stderr).toBe('berth: unknown command "start" (commands: serve, gc, du)\n');
  });

  it("berth --version prints package.json's version", () => {
    const pkg = JSON.parse(spawnSync("npm", ["pkg", "get", "version"], { encoding: "utf8" }).stdout) as string;
    expect(VERSION).toBe(pkg);
    expect(berth("--version").stdout).toBe(`berth ${VERSION}\n`);
  });

  it("berth serve --config FILE: a bad file stops the start, naming the key", () => {
    const dir = mkdtempSync(join(tmpdir(), "berth-config-"));
    writeFileSync(join(dir, "berth.yaml"), "server:\n  port: lots\n");
    const result = berth("serve", "--config", join(dir, "berth.yaml"));
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(`berth: ${join(dir, "berth.yaml")}: server.port: expected a port number 0-65535, got "lots"\n`);
    const missing = berth("serve", "--config", join(dir, "nope.yaml"));
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain(`berth: cannot read ${join(dir, "nope.yaml")}`);
  });

  it("berth serve --help lists every serve option with its variable", () => {
    const help = berth("serve", "--help").stdout;
    for (const text of ["--root DIR", "BERTH_ROOT", "--htpasswd FILE", "--config FILE", "--upload-expiry DURATION"]) expect(help).toContain(text);
  });
});
