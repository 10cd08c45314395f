/**
 * Configuration of the pull-through cache: `--upstream [NS=]URL` (repeatable), BERTH_UPSTREAM,
 * `proxy.upstreams` in the file, and bad values stopping the start without echoing credentials.
 */
import { describe, expect, it } from "vitest";
import { parseArgv, resolveConfig } from "../src/config/load.ts";
import { ConfigError } from "../src/config/values.ts";
import { parseChallenge } from "../src/proxy/upstream-client.ts";
import { matchUpstream } from "../src/proxy/upstreams.ts";

const fromArgv = async (argv: string[], env: Record<string, string> = {}, file?: string) =>
  resolveConfig({ flags: parseArgv(argv).flags, env: (name) => env[name], file: file === undefined ? undefined : { text: file, name: "berth.yaml" } });

describe("configuration: proxy.upstreams", () => {
  it("--upstream URL mirrors every repository; credentials leave the URL", async () => {
    const config = await fromArgv(["serve", "--upstream", "https://bob:p%40ss@registry.example:5000/"]);
    expect(config.proxy.upstreams).toEqual([{ namespace: "", url: "https://registry.example:5000", username: "bob", password: "p@ss" }]);
    expect(config.proxy.tagTtl).toBe(300_000);
    expect(config.proxy.timeout).toBe(15_000);
  });

  it("--upstream NS=URL is repeatable; BERTH_UPSTREAM takes a comma list; the file takes objects", async () => {
    const config = await fromArgv(["serve", "--upstream", "docker.io=https://registry-1.docker.io", "--upstream", "ghcr.io=https://ghcr.io", "--upstream-tag-ttl", "90s"]);
    expect(config.proxy.upstreams.map((u) => [u.namespace, u.url])).toEqual([["docker.io", "https://registry-1.docker.io"], ["ghcr.io", "https://ghcr.io"]]);
    expect(config.proxy.tagTtl).toBe(90_000);
    expect((await fromArgv(["serve"], { BERTH_UPSTREAM: "a=http://127.0.0.1:1,b=http://127.0.0.1:2" })).proxy.upstreams.map((u) => u.namespace)).toEqual(["a", "b"]);
    const file = "proxy:\n  upstreams:\n    - namespace: docker.io\n      url: https://registry-1.docker.io\n      username: me\n      password: tok\n    - quay.io=https://quay.io\n  timeout: 5s\n";
    const fromFile = await fromArgv(["serve"], {}, file);
    expect(fromFile.proxy.upstreams).toEqual([
      { namespace: "docker.io", url: "https://registry-1.docker.io", username: "me", password: "tok" },
      { namespace: "quay.io", url: "https://quay.io", username: undefined, password: undefined },
    ]);
    expect(fromFile.proxy.timeout).toBe(5000);
  });

  it("bad upstreams stop the start, naming the source and never the password", async () => {
    const attempt = async (argv: string[], file?: string) => {
      try {
        await fromArgv(argv, {}, file);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as Error).message;
      }
      throw new Error("accepted");
    };
    expect(await attempt(["serve", "--upstream", "ftp://u:hunter2@host"])).toMatch(/^--upstream: upstream must be an http\(s\) URL/);
    expect(await attempt(["serve", "--upstream", "ftp://u:hunter2@host"])).not.toContain("hunter2");
    expect(await attempt(["serve", "--upstream", "https://u:hunter2@host/some/path"])).not.toContain("hunter2");
    expect(await attempt(["serve", "--upstream", "Docker.IO=https://x"])).toMatch(/namespace "Docker.IO" is not a repository name prefix/);
    expect(await attempt(["serve", "--upstream", "a=https://x", "--upstream", "a=https://y"])).toMatch(/namespace "a" is given twice/);
    expect(await attempt(["serve"], "proxy:\n  upstreams:\n    - url: https://x\n      token: t\n")).toMatch(/^berth.yaml: proxy.upstreams: unknown key token/);
  });
});

describe("pull-through: names and challenges", () => {
  const upstreams = [
    { namespace: "", url: "https://default" },
    { namespace: "docker.io", url: "https://hub" },
    { namespace: "docker.io/library", url: "https://library" },
  ];
  it("the longest namespace wins; no namespace means every name", () => {
    expect(matchUpstream(upstreams, "docker.io/library/alpine")).toEqual({ upstream: upstreams[2], remote: "alpine" });
    expect(matchUpstream(upstreams, "docker.io/bitnami/redis")).toEqual({ upstream: upstreams[1], remote: "bitnami/redis" });
    expect(matchUpstream(upstreams, "docker.iox/a")).toEqual({ upstream: upstreams[0], remote: "docker.iox/a" });
    expect(matchUpstream(upstreams.slice(1), "mine/app")).toBeUndefined();
  });

  it("WWW-Authenticate: Bearer with quoted, escaped and bare parameters", () => {
    expect(parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"')).toEqual({
      scheme: "bearer",
      params: { realm: "https://auth.docker.io/token", service: "registry.docker.io", scope: "repository:library/alpine:pull" },
    });
    expect(parseChallenge('Basic realm="a \\"b\\"", charset=UTF-8')).toEqual({ scheme: "basic", params: { realm: 'a "b"', charset: "UTF-8" } });
    expect(parseChallenge(null)).toBeUndefined();
  });
});
