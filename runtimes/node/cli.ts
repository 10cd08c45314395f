import { formatAccessLog, OPTIONS_HELP, parseCommand } from "../shared/cli-options.ts";
import { serve } from "./server.ts";

export const HELP = `Usage: berth serve [options]

Run an OCI registry on node:http with storage in a local folder.

${OPTIONS_HELP}`;

export async function main(argv: string[]): Promise<void> {
  const parsed = parseCommand(argv, (name) => process.env[name]);
  if ("help" in parsed) {
    process.stdout.write(HELP);
    process.exitCode = parsed.help.exitCode;
    return;
  }
  const { config } = parsed;
  const running = await serve({ ...config, accessLog: config.quiet ? undefined : (e) => console.log(formatAccessLog(e)) });
  console.log(`berth listening on ${running.url} (storage ${config.root})`);

  const stop = async (signal: string) => {
    console.log(`berth: ${signal}, finishing in-flight requests`);
    await running.close();
    process.exit(0);
  };
  process.once("SIGINT", () => void stop("SIGINT"));
  process.once("SIGTERM", () => void stop("SIGTERM"));
}
