// What the Node CLI (runtimes/node/cli.ts) and Deno's main.ts share: argv and environment
// through the one option table (src/config), help and version text,
// and turning a configuration error into one message and exit code 2. Only what the two
// shims do alike lives here; what the Worker needs too lives in src/config.
import { commandsHelp, optionsHelp } from "../../src/config/help.ts";
import { loadConfig, parseArgv } from "../../src/config/load.ts";
import type { Command } from "../../src/config/options.ts";
import type { Config } from "../../src/config/schema.ts";
import { ConfigError } from "../../src/config/values.ts";

export interface CommandRuntime {
  argv: string[];
  env: (name: string) => string | undefined;
  readText: (path: string) => Promise<string>;
  /** The first line of --help: how this runtime is invoked. */
  usage: string;
  /** Deno's main.ts only serves, so there `serve` may be left out. */
  defaultCommand?: Command;
  version: string;
  print: (text: string) => void;
  /** Runs a command with its configuration; resolves once started (serve) or done (gc). */
  run: (command: Command, config: Config) => Promise<void>;
}

/** Returns the exit code to use now, or undefined when the command keeps running. */
export async function runCommand(runtime: CommandRuntime): Promise<number | undefined> {
  try {
    const parsed = parseArgv(runtime.argv, { defaultCommand: runtime.defaultCommand });
    if (parsed.version) return runtime.print(`berth ${runtime.version}\n`), 0;
    if (parsed.help) return runtime.print(`${runtime.usage}\n\n${commandsHelp()}\n${optionsHelp(parsed.command)}`), 0;
    const config = await loadConfig(parsed, runtime.env, runtime.readText);
    await runtime.run(parsed.command, config);
    return undefined;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`berth: ${error.message}`);
    return 2;
  }
}
