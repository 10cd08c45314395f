import cluster from "node:cluster";
import { readFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
// Modules, not the src/index.ts barrel: start-up loads only what serving needs (README, Performance).
import type { Command } from "../../src/config/options.ts";
import { MAX_WORKERS } from "../../src/config/ops-checks.ts";
import { loggerFrom } from "../../src/config/registry-options.ts";
import type { Config } from "../../src/config/schema.ts";
import { createStoreFromConfig, describeStorage } from "../../src/config/store.ts";
import { VERSION } from "../../src/version.ts";
import { runCommand } from "../shared/cli-options.ts";
import { runPrimary } from "./cluster/primary.ts";
import { joinCluster } from "./cluster/worker.ts";
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
  // gc and du (and the GC schedule) load the lifecycle modules when they run, not at start-up.
  const lifecycle = () => import("../../src/lifecycle/index.ts");
  if (command !== "serve") return void process.stdout.write(await (await lifecycle()).runLifecycleCommand(command, await storeOf(), config));
  const logger = loggerFrom(config);
  const workers = config.server.workers || Math.min(availableParallelism(), MAX_WORKERS);
  if (workers > 1 && cluster.isPrimary) return runPrimary({ workers, logger, describe: `storage ${describeStorage(config)}`, gc: config.gc.interval > 0 });
  const link = joinCluster();
  const registry = await createNodeRegistry(config, logger, link?.peers);
  link?.answerSnapshots(registry.metricsSnapshot);
  let gc: { stop(): Promise<void> } | undefined;
  const startGc = async () => {
    const { startGcSchedule, gcOptionsFrom } = await lifecycle();
    gc = startGcSchedule(await storeOf(), gcOptionsFrom(config), config.gc.interval, (line) => logger.info(line), registry.gcObserver);
  };
  // In a worker a failed start is said, not thrown: a worker that crashes after it listened is started again, and would crash again.
  if (config.gc.interval > 0) link ? link.onGcRole(() => void startGc().catch((error: Error) => logger.error(`berth gc: schedule not started: ${error.message}`))) : await startGc();
  const { host, port, tlsCert, tlsKey, http2 } = config.server;
  const tls = tlsCert && tlsKey ? { certFile: tlsCert, keyFile: tlsKey } : undefined;
  const running = await serve({ registry, host, port, tls, http2, logger });
  if (link) link.listening(running.url); // the primary prints the one listening line
  else logger.info(`berth listening on ${running.url} (storage ${describeStorage(config)})`);

  let stopping = false; // Ctrl-C reaches a worker twice: from the terminal and from its primary
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`berth: ${signal}, finishing in-flight requests`);
    await Promise.all([running.close(), gc?.stop()]);
    if (!link) logger.info("berth stopped");
    process.exit(0);
  };
  process.once("SIGINT", () => void stop("SIGINT"));
  process.once("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGHUP", () => void registry.reload()); // re-read the htpasswd file and the policy now
}
