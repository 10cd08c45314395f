/**
 * TargetOptions.auth as the real runtimes take it: files plus CLI flags and BERTH_* variables
 * (node, deno), or vars holding the contents (worker). One mapping, so every target is
 * started the way a user would start it.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { AuthOptions } from "../../src/options.ts";

export interface AuthLaunch {
  args: string[];
  env: Record<string, string>;
  /** Files the server must be able to read (deno --allow-read). */
  files: string[];
  /** Where the htpasswd and policy files are, for tests that rewrite them. */
  paths: { htpasswd?: string; policy?: string };
}

const seconds = (ms: number) => `${ms / 1000}s`;

export async function authLaunch(auth: AuthOptions | undefined, workDir: string): Promise<AuthLaunch> {
  const launch: AuthLaunch = { args: [], env: {}, files: [], paths: {} };
  if (!auth) return launch;
  const file = async (name: string, text: string, flag: string) => {
    const path = join(workDir, name);
    await writeFile(path, text);
    launch.files.push(path);
    launch.args.push(flag, path);
    return path;
  };
  if (auth.htpasswd !== undefined) launch.paths.htpasswd = await file("htpasswd", auth.htpasswd, "--htpasswd");
  if (auth.policy !== undefined) launch.paths.policy = await file("policy.yaml", typeof auth.policy === "string" ? auth.policy : JSON.stringify(auth.policy), "--policy");
  if (auth.anonymousPull) launch.args.push("--anonymous-pull");
  if (auth.readOnlyUsers?.length) launch.args.push("--read-only", auth.readOnlyUsers.join(","));
  const token = auth.token ?? {};
  if (token.lifetimeMs !== undefined) launch.args.push("--token-lifetime", seconds(token.lifetimeMs));
  if (token.realm) launch.args.push("--token-realm", token.realm);
  if (token.issuer) launch.args.push("--token-issuer", token.issuer);
  if (token.service) launch.args.push("--token-service", token.service);
  if (token.signingKey) await file("token-key.pem", token.signingKey, "--token-key");
  if (token.refreshLifetimeMs !== undefined) launch.env.BERTH_TOKEN_REFRESH_LIFETIME = seconds(token.refreshLifetimeMs);
  if (auth.reload?.intervalMs !== undefined) launch.env.BERTH_AUTH_RELOAD_INTERVAL = seconds(auth.reload.intervalMs);
  if (token.trust?.length) {
    // Only the config file has a key for trusted issuers (a list of mappings).
    await file("berth.json", JSON.stringify({ auth: { token: { trust: token.trust } } }), "--config");
  }
  return launch;
}

/** The Worker's vars: the same options, file options holding contents (secrets on Workers). */
export function authVars(auth: AuthOptions | undefined): Record<string, string | undefined> {
  const token = auth?.token ?? {};
  return {
    BERTH_HTPASSWD: auth?.htpasswd,
    BERTH_POLICY: auth?.policy === undefined ? undefined : typeof auth.policy === "string" ? auth.policy : JSON.stringify(auth.policy),
    BERTH_ANONYMOUS_PULL: auth?.anonymousPull ? "true" : undefined,
    BERTH_READ_ONLY_USERS: auth?.readOnlyUsers?.join(","),
    BERTH_REALM: auth?.realm,
    BERTH_TOKEN_LIFETIME: token.lifetimeMs === undefined ? undefined : seconds(token.lifetimeMs),
    BERTH_TOKEN_REFRESH_LIFETIME: token.refreshLifetimeMs === undefined ? undefined : seconds(token.refreshLifetimeMs),
    BERTH_TOKEN_REALM: token.realm,
    BERTH_TOKEN_ISSUER: token.issuer,
    BERTH_TOKEN_SERVICE: token.service,
    BERTH_TOKEN_KEY: token.signingKey,
    BERTH_CONFIG: token.trust?.length ? JSON.stringify({ auth: { token: { trust: token.trust } } }) : undefined,
  };
}
