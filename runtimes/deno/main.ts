// Berth on Deno: `deno run <permissions> runtimes/deno/main.ts serve [options]` (or `deno task serve`).
// Options and output are the Node CLI's (runtimes/shared/cli-options.ts).
import { type EnvName, formatAccessLog, parseCommand } from "../shared/cli-options.ts";
import { HELP } from "./help.ts";
import { serve } from "./server.ts";

// Ungranted variables read as unset instead of failing: --allow-env may list only some.
const env = (name: EnvName) =>
  Deno.permissions.querySync({ name: "env", variable: name }).state === "granted" ? Deno.env.get(name) : undefined;

async function main(): Promise<void> {
  // `serve` is optional here (main.ts does nothing else) but accepted, as the Node CLI needs it.
  const parsed = parseCommand(Deno.args, env, { serveOptional: true });
  if ("help" in parsed) {
    console.log(HELP.trimEnd());
    Deno.exit(parsed.help.exitCode);
  }
  const { config } = parsed;
  const running = await serve({ ...config, accessLog: config.quiet ? undefined : (e) => console.log(formatAccessLog(e)) });
  console.log(`berth listening on ${running.url} (storage ${config.root})`);

  const stop = async (signal: Deno.Signal) => {
    console.log(`berth: ${signal}, finishing in-flight requests`);
    await running.close();
    Deno.exit(0);
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(signal, () => void stop(signal));
}

main().catch((error) => {
  console.error(`berth: ${error instanceof Error ? error.message : error}`);
  if (error instanceof Deno.errors.NotCapable || (error as Error | undefined)?.cause instanceof Deno.errors.NotCapable) {
    console.error("berth: grant --allow-net for --host:--port and --allow-read/--allow-write for --root (see --help)");
  }
  Deno.exit(1);
});
