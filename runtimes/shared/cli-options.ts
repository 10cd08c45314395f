import { parseArgs } from "node:util";

// The one option table of `berth serve` on Node (runtimes/node/cli.ts) and Deno
// (runtimes/deno/main.ts): same flags, defaults and BERTH_* variables, so a command line
// or environment works unchanged on either runtime. node:util runs on Deno as well.

/** Every variable the options below read: the exact list for Deno's --allow-env. */
export const ENV_NAMES = [
  "BERTH_ROOT", "BERTH_HOST", "BERTH_PORT", "BERTH_HTPASSWD", "BERTH_ANONYMOUS_PULL",
  "BERTH_READ_ONLY_USERS", "BERTH_UPLOAD_EXPIRY", "BERTH_ACCESS_LOG",
] as const;

export type EnvName = (typeof ENV_NAMES)[number];

/** The options part of each runtime's --help. */
export const OPTIONS_HELP = `Options (each also settable by environment variable):
  --root DIR          storage folder (BERTH_ROOT, default ./data)
  --host ADDR         listen address (BERTH_HOST, default 127.0.0.1)
  --port N            listen port, 0 for any free one (BERTH_PORT, default 5000)
  --htpasswd FILE     require HTTP basic auth from a bcrypt htpasswd file (BERTH_HTPASSWD)
  --anonymous-pull    with --htpasswd, let anyone pull; pushing still needs a user (BERTH_ANONYMOUS_PULL=1)
  --read-only USERS   comma-separated users who may pull but not push or delete (BERTH_READ_ONLY_USERS)
  --upload-expiry S   seconds an idle upload session lives (BERTH_UPLOAD_EXPIRY, default 86400)
  --quiet             no access log (BERTH_ACCESS_LOG=0)
  -h, --help          show this help
`;

export interface ServeConfig {
  root: string;
  host: string;
  port: number;
  htpasswdFile?: string;
  anonymousPull: boolean;
  readOnlyUsers?: string[];
  uploadExpiryMs: number;
  quiet: boolean;
}

/** `help` is set when the help text should be printed instead of serving (exit code inside). */
export type ParsedCommand = { help: { exitCode: number } } | { config: ServeConfig };

/**
 * Parse `serve [options]`. `env` reads a BERTH_* variable (undefined when unset; Deno also
 * answers undefined for one it may not read). With `serveOptional`, no command means serve.
 */
export function parseCommand(
  argv: string[],
  env: (name: EnvName) => string | undefined,
  { serveOptional = false } = {},
): ParsedCommand {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      root: { type: "string", default: env("BERTH_ROOT") ?? "./data" },
      host: { type: "string", default: env("BERTH_HOST") ?? "127.0.0.1" },
      port: { type: "string", default: env("BERTH_PORT") ?? "5000" },
      htpasswd: { type: "string", default: env("BERTH_HTPASSWD") },
      "anonymous-pull": { type: "boolean", default: isTrue(env("BERTH_ANONYMOUS_PULL")) },
      "read-only": { type: "string", default: env("BERTH_READ_ONLY_USERS") },
      "upload-expiry": { type: "string", default: env("BERTH_UPLOAD_EXPIRY") ?? "86400" },
      quiet: { type: "boolean", default: env("BERTH_ACCESS_LOG") === "0" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const command = positionals.join(" ");
  const serving = command === "serve" || (serveOptional && command === "");
  if (values.help || !serving) return { help: { exitCode: values.help ? 0 : 2 } };
  const port = Number(values.port);
  const expirySeconds = Number(values["upload-expiry"]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid --port ${values.port}`);
  if (!(expirySeconds > 0)) throw new Error(`invalid --upload-expiry ${values["upload-expiry"]}`);
  return {
    config: {
      root: values.root,
      host: values.host,
      port,
      htpasswdFile: values.htpasswd,
      anonymousPull: values["anonymous-pull"],
      readOnlyUsers: values["read-only"]?.split(",").map((user) => user.trim()).filter(Boolean),
      uploadExpiryMs: expirySeconds * 1000,
      quiet: values.quiet,
    },
  };
}

/** One access-log line: `<time> <method> <path> <status> <bytes> <ms>ms`, bytes `-` when unknown. */
export function formatAccessLog(e: { method: string; url: string; status: number; bytes: number | undefined; ms: number; aborted: boolean }): string {
  return `${new Date().toISOString()} ${e.method} ${e.url} ${e.status} ${e.bytes ?? "-"} ${e.ms.toFixed(1)}ms${e.aborted ? " aborted" : ""}`;
}

const isTrue = (value: string | undefined) => value === "1" || value === "true";
