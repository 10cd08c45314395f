import { parseArgs } from "node:util";
import { serve } from "./server.ts";

const HELP = `Usage: berth serve [options]

Run an OCI registry on node:http with storage in a local folder.

Options (each also settable by environment variable):
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

export async function main(argv: string[]): Promise<void> {
  const env = process.env;
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      root: { type: "string", default: env.BERTH_ROOT ?? "./data" },
      host: { type: "string", default: env.BERTH_HOST ?? "127.0.0.1" },
      port: { type: "string", default: env.BERTH_PORT ?? "5000" },
      htpasswd: { type: "string", default: env.BERTH_HTPASSWD },
      "anonymous-pull": { type: "boolean", default: isTrue(env.BERTH_ANONYMOUS_PULL) },
      "read-only": { type: "string", default: env.BERTH_READ_ONLY_USERS },
      "upload-expiry": { type: "string", default: env.BERTH_UPLOAD_EXPIRY ?? "86400" },
      quiet: { type: "boolean", default: env.BERTH_ACCESS_LOG === "0" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help || positionals[0] !== "serve") {
    process.stdout.write(HELP);
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  const port = Number(values.port);
  const expirySeconds = Number(values["upload-expiry"]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid --port ${values.port}`);
  if (!(expirySeconds > 0)) throw new Error(`invalid --upload-expiry ${values["upload-expiry"]}`);

  const running = await serve({
    root: values.root,
    host: values.host,
    port,
    htpasswdFile: values.htpasswd,
    anonymousPull: values["anonymous-pull"],
    readOnlyUsers: values["read-only"]?.split(",").map((user) => user.trim()).filter(Boolean),
    uploadExpiryMs: expirySeconds * 1000,
    accessLog: values.quiet
      ? undefined
      : (e) => console.log(`${new Date().toISOString()} ${e.method} ${e.url} ${e.status} ${e.bytes} ${e.ms.toFixed(1)}ms${e.aborted ? " aborted" : ""}`),
  });
  console.log(`berth listening on ${running.url} (storage ${values.root})`);

  const stop = async (signal: string) => {
    console.log(`berth: ${signal}, finishing in-flight requests`);
    await running.close();
    process.exit(0);
  };
  process.once("SIGINT", () => void stop("SIGINT"));
  process.once("SIGTERM", () => void stop("SIGTERM"));
}

const isTrue = (value: string | undefined) => value === "1" || value === "true";
