/**
 * Auth configuration stops a bad start, naming the problem: an htpasswd file with a malformed
 * line or no user, a policy that does not parse or names an unknown group, shorthand flags
 * beside a policy, short token lifetimes, bad signing keys. Also: the policy inline in the
 * config file, and the real `berth serve` exiting 2 on a broken htpasswd file.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import bcrypt from "bcryptjs";
import { describe, expect, it } from "vitest";
import { parseArgv, resolveConfig } from "../src/config/load.ts";
import { registryOptionsFrom } from "../src/config/registry-options.ts";
import { MemoryStore } from "../src/storage/memory.ts";

const ALICE = `alice:${bcrypt.hashSync("pw", 4)}`;
const POLICY = "groups:\n  admins: [alice]\nrules:\n  - repositories: [\"team/**\"]\n    groups: [admins]\n    actions: [pull, push]\n";

/** Options from argv, with `files` as what readText finds. */
async function optionsOf(argv: string[], files: Record<string, string>, configFile?: string) {
  const config = await resolveConfig({ flags: parseArgv(argv).flags, env: () => undefined, file: configFile === undefined ? undefined : { text: configFile, name: "berth.yaml" } });
  const readText = async (path: string) => {
    if (!(path in files)) throw new Error("ENOENT");
    return files[path]!;
  };
  return registryOptionsFrom(config, { store: new MemoryStore(), readText });
}

describe("auth configuration", () => {
  it("--htpasswd with a malformed line / a non-bcrypt entry / no user: names the file and line", async () => {
    await expect(optionsOf(["serve", "--htpasswd", "h"], { h: `${ALICE}\nbob\n` })).rejects.toThrow('h: line 2: expected user:hash');
    await expect(optionsOf(["serve", "--htpasswd", "h"], { h: "bob:{SHA}abc\n" })).rejects.toThrow('h: line 1: the entry for "bob" is not a bcrypt hash (create it with htpasswd -B)');
    await expect(optionsOf(["serve", "--htpasswd", "h"], { h: "# nobody\n\n" })).rejects.toThrow("h: no users");
    await expect(optionsOf(["serve", "--htpasswd", "h"], { h: `${ALICE}\n${ALICE}\n` })).rejects.toThrow('h: line 2: "alice" appears twice');
  });

  it("--policy that does not parse, names an unknown group or action, or applies to nobody", async () => {
    const files = { h: ALICE };
    await expect(optionsOf(["serve", "--htpasswd", "h", "--policy", "p"], { ...files, p: "rules: [\n" })).rejects.toThrow(/^p: not valid YAML or JSON/);
    await expect(optionsOf(["serve", "--htpasswd", "h", "--policy", "p"], { ...files, p: POLICY.replace("groups: [admins]", "groups: [admin]") })).rejects.toThrow('p: rules[0].groups: unknown group "admin" (groups: admins)');
    await expect(optionsOf(["serve", "--htpasswd", "h", "--policy", "p"], { ...files, p: POLICY.replace("push]", "write]") })).rejects.toThrow('p: rules[0].actions: unknown action "write"');
    await expect(optionsOf(["serve", "--htpasswd", "h", "--policy", "p"], { ...files, p: 'rules:\n  - repositories: ["**"]\n    actions: [pull]\n' })).rejects.toThrow("p: rules[0]: applies to nobody");
    await expect(optionsOf(["serve", "--htpasswd", "h", "--policy", "p"], { ...files, p: 'rules:\n  - repositories: ["Team/**"]\n    users: ["*"]\n    actions: [pull]\n' })).rejects.toThrow('p: rules[0].repositories: "Team/**" is not a repository glob');
    await expect(optionsOf(["serve", "--htpasswd", "h", "--policy", "missing"], files)).rejects.toThrow("cannot read missing");
  });

  it("--anonymous-pull or --read-only beside --policy: they are shorthands for one", async () => {
    await expect(optionsOf(["serve", "--htpasswd", "h", "--policy", "p", "--anonymous-pull"], { h: ALICE, p: POLICY })).rejects.toThrow("--anonymous-pull is a shorthand for a policy; with --policy, write it as a rule there");
  });

  it("--policy or --token-key without --htpasswd: needs users", async () => {
    await expect(optionsOf(["serve", "--policy", "p"], { p: POLICY })).rejects.toThrow("--policy needs users: give --htpasswd FILE");
    await expect(optionsOf(["serve", "--token-key", "k"], { k: "x" })).rejects.toThrow("--token-key needs users");
  });

  it("--token-lifetime under 60s; a --token-key that is no P-256 PKCS#8 key", async () => {
    await expect(optionsOf(["serve", "--htpasswd", "h", "--token-lifetime", "30s"], { h: ALICE })).rejects.toThrow("--token-lifetime: tokens must live at least 60s");
    await expect(optionsOf(["serve", "--htpasswd", "h", "--token-key", "k"], { h: ALICE, k: "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n" })).rejects.toThrow("k: a SEC1 EC key; convert it to PKCS#8");
    await expect(optionsOf(["serve", "--htpasswd", "h", "--token-key", "k"], { h: ALICE, k: "hello" })).rejects.toThrow("k: expected a PEM PKCS#8 private key");
  });

  it("auth.policy inline in the config file works; a bad one names the file key", async () => {
    const inline = `auth:\n  htpasswd: h\n  policy:\n    groups:\n      admins: [alice]\n    rules:\n      - repositories: ["team/**"]\n        groups: [admins]\n        actions: [pull, push]\n`;
    const options = await optionsOf(["serve"], { h: ALICE }, inline);
    expect(options.auth?.policy).toEqual({ groups: { admins: ["alice"] }, rules: [{ repositories: ["team/**"], groups: ["admins"], actions: ["pull", "push"] }] });
    await expect(optionsOf(["serve"], { h: ALICE }, inline.replace("groups: [admins]", "groups: [ops]"))).rejects.toThrow('berth.yaml: auth.policy: rules[0].groups: unknown group "ops"');
  });

  it("auth.token.trust entries are checked: issuer and one of keys/keysFile", async () => {
    await expect(optionsOf(["serve"], { h: ALICE }, "auth:\n  htpasswd: h\n  token:\n    trust:\n      - service: x\n")).rejects.toThrow("berth.yaml: auth.token.trust[0].issuer: expected the iss its tokens carry");
    await expect(optionsOf(["serve"], { h: ALICE }, "auth:\n  htpasswd: h\n  token:\n    trust:\n      - issuer: corp\n        keys: nope\n")).rejects.toThrow("auth.token.trust[0]: expected a PEM public key");
  });
});

describe("berth serve with a broken htpasswd file", () => {
  it("exits 2 naming the file and the line", () => {
    const dir = mkdtempSync(join(tmpdir(), "berth-auth-config-"));
    writeFileSync(join(dir, "htpasswd"), `${ALICE}\nbob:plain\n`);
    const bin = fileURLToPath(new URL("../bin/berth.mjs", import.meta.url));
    const result = spawnSync(process.execPath, [bin, "serve", "--root", join(dir, "data"), "--port", "0", "--htpasswd", join(dir, "htpasswd")], { encoding: "utf8", env: { ...process.env, BERTH_CONFIG: "" }, timeout: 20_000 });
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(`berth: ${join(dir, "htpasswd")}: line 2: the entry for "bob" is not a bcrypt hash (create it with htpasswd -B)\n`);
  });
});
