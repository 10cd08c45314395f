import { readFile } from "node:fs/promises";
import { createStoreFromConfig, describeStorage, gcOptionsFrom, loggerFrom, runLifecycleCommand, startGcSchedule, VERSION, type Command, type Config } from "../../src/index.ts";
import { runCommand } from "../shared/cli-options.ts";
import { FsStore } from "./fs-store.ts";
import { createNodeRegistry, serve } from "./server.ts";

export const USAGE = `Usage: berth <command> [options]

Berth, an OCI registry. On Node: node:http with storage in a local folder.`;

export async function main(argv: string[]): Promise<void> {
  const exitCode = await runCommand({
    argv,
    env: (name) => process.env[name],
    readText: (path) => readFile(path, "utf8"),
    usage: USAGE,
    version: VERSION,
    print: (text) => process.stdout.write(text),
    run,
  });
  if (exitCode !== undefined) process.exitCode = exitCode;
}

async function run(command: Command, config: Config): Promise<void> {
  // gc, du and the GC schedule work on the store the registry uses: the folder or the bucket.
  const storeOf = () => createStoreFromConfig(config, () => new FsStore(config.storage.root));
  if (command !== "serve") return void process.stdout.write(await runLifecycleCommand(command, await storeOf(), config));
  const logger = loggerFrom(config);
  const registry = await createNodeRegistry(config, logger);
  const gc = config.gc.interval > 0 ? startGcSchedule(await storeOf(), gcOptionsFrom(config), config.gc.interval, (line) => logger.info(line), registry.gcObserver) : undefined;
  const { host, port, tlsCert, tlsKey } = config.server;
  const tls = tlsCert && tlsKey ? { certFile: tlsCert, keyFile: tlsKey } : undefined;
  const running = await serve({ registry, host, port, tls, logger });
  logger.info(`berth listening on ${running.url} (storage ${describeStorage(config)})`);

  const stop = async (signal: string) => {
    logger.info(`berth: ${signal}, finishing in-flight requests`);
    await Promise.all([running.close(), gc?.stop()]);
    logger.info("berth stopped");
    process.exit(0);
  };
  process.once("SIGINT", () => void stop("SIGINT"));
  process.once("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGHUP", () => void registry.reload()); // re-read the htpasswd file and the policy now
}
