// Berth on Deno: `deno run <permissions> runtimes/deno/main.ts serve [options]` (or `deno task serve`).
// Options and output match the Node CLI (runtimes/node/cli.ts); see config.ts and HELP.
import { type EnvName, HELP, parseCommand } from "./config.ts";
import { serve } from "./server.ts";

// Ungranted variables read as unset instead of failing: --allow-env may list only some.
const env = (name: EnvName) =>
  Deno.permissions.querySync({ name: "env", variable: name }).state === "granted" ? Deno.env.get(name) : undefined;

async function main(): Promise<void> {
  const parsed = parseCommand(Deno.args, env);
  if ("help" in parsed) {
    console.log(HELP.trimEnd());
    Deno.exit(parsed.help.exitCode);
  }
  const { config } = parsed;
  if (Deno.permissions.querySync({ name: "write", path: config.root }).state !== "granted") {
    console.error(`berth: no --allow-write for ${config.root}: pulls work, pushes will fail`);
  }
  const running = await serve({
    ...config,
    accessLog: config.quiet
      ? undefined
      : (e) => console.log(`${new Date().toISOString()} ${e.method} ${e.url} ${e.status} ${e.bytes ?? "-"} ${e.ms.toFixed(1)}ms${e.aborted ? " aborted" : ""}`),
  });
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
  if (error instanceof Deno.errors.NotCapable) {
    console.error("berth: grant --allow-net for --host:--port and --allow-read/--allow-write for --root (see --help)");
  }
  Deno.exit(1);
});
