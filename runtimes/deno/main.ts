// Berth on Deno: `deno run <permissions> runtimes/deno/main.ts [serve] [options]` (or `deno task serve`).
// Options come from the one table in src/config, read as on Node (runtimes/shared/cli-options.ts).
import { ConfigError, createStoreFromConfig, describeStorage, gcOptionsFrom, loggerFrom, runLifecycleCommand, startGcSchedule, VERSION, type Command, type Config } from "../../src/index.ts";
import { runCommand } from "../shared/cli-options.ts";
import { STARTED_WITH_V8_GC } from "../shared/young-garbage.ts";
import { DenoStore } from "./deno-store.ts";
import { USAGE } from "./help.ts";
import { createDenoRegistry, serve } from "./server.ts";

// Ungranted variables read as unset instead of failing: --allow-env may list only some.
const env = (name: string) =>
  Deno.permissions.querySync({ name: "env", variable: name }).state === "granted" ? Deno.env.get(name) : undefined;

async function run(command: Command, config: Config): Promise<void> {
  const root = config.storage.root;
  // gc, du and the GC schedule work on the store the registry uses: the folder or the bucket.
  const storeOf = () => createStoreFromConfig(config, () => new DenoStore(root));
  if (command !== "serve") return void Deno.stdout.writeSync(new TextEncoder().encode(await runLifecycleCommand(command, await storeOf(), config)));
  // Deno's node:cluster starts each worker as `deno run -A` without deno.json: every permission
  // and a fresh npm download, so Deno runs one process; several go behind a load balancer.
  if (config.server.workers !== 1) throw new ConfigError("--workers (server.workers) is for Node: on Deno, node:cluster would start workers with every permission (deno run -A); run several berth processes on one --root behind a load balancer instead");
  const logger = loggerFrom(config);
  if (!STARTED_WITH_V8_GC) {
    logger.warn("started without --v8-flags=--expose-gc: pushes run about half as fast (README, Run on Deno)");
  }
  for (const { url } of config.proxy.upstreams) {
    const host = new URL(url).host;
    if (Deno.permissions.querySync({ name: "net", host }).state !== "granted") {
      logger.warn(`no --allow-net for ${host}: pulls through the cache of ${url} will fail`);
    }
  }
  const registry = await createDenoRegistry(config, logger);
  const { host, port, tlsCert, tlsKey, http2 } = config.server;
  const tls = tlsCert && tlsKey ? { certFile: tlsCert, keyFile: tlsKey } : undefined;
  const running = await serve({ registry, host, port, tls, http2, logger });
  logger.info(`berth listening on ${running.url} (storage ${describeStorage(config)})`);
  const gc = config.gc.interval > 0 ? startGcSchedule(await storeOf(), gcOptionsFrom(config), config.gc.interval, (line) => logger.info(line), registry.gcObserver) : undefined;

  const stop = async (signal: Deno.Signal) => {
    logger.info(`berth: ${signal}, finishing in-flight requests`);
    await Promise.all([running.close(), gc?.stop()]);
    logger.info("berth stopped");
    Deno.exit(0);
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(signal, () => void stop(signal));
  Deno.addSignalListener("SIGHUP", () => void registry.reload()); // re-read the htpasswd file and the policy now
}

runCommand({
  argv: Deno.args,
  env,
  readText: (path) => Deno.readTextFile(path),
  usage: USAGE,
  defaultCommand: "serve",
  version: VERSION,
  print: (text) => void Deno.stdout.writeSync(new TextEncoder().encode(text)),
  run,
}).then((exitCode) => {
  if (exitCode !== undefined) Deno.exit(exitCode);
}, (error) => {
  console.error(`berth: ${error instanceof Error ? error.message : error}`);
  if (error instanceof Deno.errors.NotCapable || (error as Error | undefined)?.cause instanceof Deno.errors.NotCapable) {
    console.error("berth: grant --allow-net for --host:--port and --allow-read/--allow-write for --root (see --help)");
  }
  Deno.exit(1);
});
