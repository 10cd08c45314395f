/**
 * The one configuration loader. Precedence: defaults < config file < BERTH_* variables <
 * flags. Node and Deno call `parseArgv` then `resolveConfig` (through `loadConfig`); the
 * Worker calls `resolveConfig` with its vars. Every problem is a ConfigError naming its source.
 */
import { parseDocument } from "./document.ts";
import { COMMANDS, OPTIONS, type Command, type OptionSpec } from "./options.ts";
import type { Config } from "./schema.ts";
import { ConfigError, parseValue, type FileRef } from "./values.ts";

export interface ParsedArgv {
  command: Command;
  /** Flag values by option row, already parsed. */
  flags: Map<OptionSpec, unknown>;
  help: boolean;
  version: boolean;
}

export interface ConfigSources {
  flags?: Map<OptionSpec, unknown>;
  env?: (name: string) => string | undefined;
  /** Workers: a `file` option given by a var or secret holds the contents, not a path. */
  envHoldsContents?: boolean;
  /** The config file's text and the name to use in messages. */
  file?: { text: string; name: string };
}

/**
 * `[command] [--flag value | --flag=value | --bool | --no-bool]...`. With `defaultCommand`,
 * the command may be left out (Deno's main.ts only serves).
 */
export function parseArgv(argv: string[], { defaultCommand }: { defaultCommand?: Command } = {}): ParsedArgv {
  const result: ParsedArgv = { command: defaultCommand ?? "serve", flags: new Map(), help: false, version: false };
  let commandSeen = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "-h" || arg === "--help") { result.help = true; continue; }
    if (arg === "-v" || arg === "--version") { result.version = true; continue; }
    if (!arg.startsWith("--")) {
      if (commandSeen || !(arg in COMMANDS)) {
        throw new ConfigError(commandSeen ? `unexpected argument "${arg}"` : `unknown command "${arg}" (commands: ${Object.keys(COMMANDS).join(", ")})`);
      }
      result.command = arg as Command;
      commandSeen = true;
      continue;
    }
    const [name, inline] = splitFlag(arg.slice(2));
    const negated = name.startsWith("no-") && inline === undefined ? findFlag(name.slice(3), "boolean") : undefined;
    const spec = negated ?? findFlag(name);
    if (!spec) throw new ConfigError(`unknown option --${name} (see --help)`);
    let value: unknown;
    if (spec.kind === "boolean") value = negated ? false : inline === undefined ? true : parseValue("boolean", inline, `--${name}`);
    else {
      const raw = inline ?? argv[++i];
      if (raw === undefined || (inline === undefined && raw.startsWith("--"))) throw new ConfigError(`--${name} needs a value${spec.arg ? ` (${spec.arg})` : ""}`);
      value = parseValue(spec.kind, raw, `--${name}`);
    }
    if (spec.invert) value = !value;
    if (spec.repeatable && result.flags.has(spec)) value = [...(result.flags.get(spec) as unknown[]), ...(value as unknown[])];
    result.flags.set(spec, value);
  }
  if (!commandSeen && !defaultCommand && !result.help && !result.version) throw new ConfigError(`no command given (commands: ${Object.keys(COMMANDS).join(", ")})`);
  for (const spec of result.flags.keys()) {
    const commands = spec.commands ?? ["serve"];
    if (!commands.includes(result.command)) throw new ConfigError(`--${spec.flag} is not an option of "${result.command}"`);
  }
  return result;
}

function splitFlag(text: string): [string, string | undefined] {
  const eq = text.indexOf("=");
  return eq < 0 ? [text, undefined] : [text.slice(0, eq), text.slice(eq + 1)];
}

const findFlag = (name: string, kind?: string) => OPTIONS.find((o) => o.flag === name && (!kind || (o.kind === kind && !o.invert)));

/** Defaults, then the file, then the environment, then the flags. */
export async function resolveConfig(sources: ConfigSources): Promise<Config> {
  const config: Record<string, unknown> = {};
  for (const spec of OPTIONS) if (spec.default !== undefined && !spec.flagOnly) setPath(config, spec.key, structuredClone(spec.default));
  for (const key of ["storage", "server", "uploads", "manifests", "auth"]) config[key] ??= {};

  if (sources.file) await applyFile(config, sources.file);
  for (const spec of OPTIONS) {
    const raw = spec.env && !spec.flagOnly ? sources.env?.(spec.env) : undefined;
    if (raw === undefined || (raw === "" && spec.kind !== "boolean")) continue;
    const value: unknown = (spec.kind === "file" || spec.kind === "document") && sources.envHoldsContents ? ({ text: raw } satisfies FileRef) : parseValue(spec.kind, raw, spec.env!);
    setPath(config, spec.key, spec.check ? spec.check(value, spec.env!) : value);
  }
  for (const [spec, value] of sources.flags ?? []) setPath(config, spec.key, spec.check ? spec.check(value, `--${spec.flag}`) : value);
  return config as unknown as Config;
}

async function applyFile(config: Record<string, unknown>, file: { text: string; name: string }): Promise<void> {
  let data: unknown;
  try {
    data = await parseDocument(file.text);
  } catch (error) {
    throw new ConfigError(`${file.name}: ${(error as Error).message}`);
  }
  if (data === null || data === undefined) return; // an empty file configures nothing
  if (typeof data !== "object" || Array.isArray(data)) throw new ConfigError(`${file.name}: expected a mapping of options at the top level`);
  const fileKeys = new Map(OPTIONS.filter((o) => !o.flagOnly && o.key !== "config").map((o) => [o.key, o]));
  const walk = (node: Record<string, unknown>, prefix: string) => {
    for (const [name, value] of Object.entries(node)) {
      const key = prefix ? `${prefix}.${name}` : name;
      const spec = fileKeys.get(key);
      const source = `${file.name}: ${key}`;
      if (spec) setPath(config, key, spec.check ? spec.check(parseValue(spec.kind, value, source), source) : parseValue(spec.kind, value, source));
      else if (value && typeof value === "object" && !Array.isArray(value) && [...fileKeys.keys()].some((k) => k.startsWith(`${key}.`))) walk(value as Record<string, unknown>, key);
      else throw new ConfigError(`${source}: unknown option`);
    }
  };
  walk(data as Record<string, unknown>, "");
}

function setPath(target: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split(".");
  let node = target;
  for (const part of parts.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
  node[parts.at(-1)!] = value;
}

/**
 * Node and Deno: argv + environment + the file they name. `readText` is the runtime's file
 * read; a file that cannot be read is a ConfigError naming it.
 */
export async function loadConfig(
  parsed: ParsedArgv,
  env: (name: string) => string | undefined,
  readText: (path: string) => Promise<string>,
): Promise<Config> {
  const configSpec = OPTIONS.find((o) => o.key === "config")!;
  const named = parsed.flags.get(configSpec) as FileRef | undefined;
  const path = named && "path" in named ? named.path : env("BERTH_CONFIG") || undefined;
  const file = path ? { text: await readConfigText(path, readText), name: path } : undefined;
  return resolveConfig({ flags: parsed.flags, env, file });
}

/** The text of a file the configuration names (htpasswd, policy, the config itself). */
export async function readConfigText(path: string, readText: (path: string) => Promise<string>): Promise<string> {
  try {
    return await readText(path);
  } catch (error) {
    throw new ConfigError(`cannot read ${path}: ${(error as Error).message}`);
  }
}

/** The contents a FileRef stands for. */
export const readFileRef = (ref: FileRef, readText: (path: string) => Promise<string>): Promise<string> =>
  "text" in ref ? Promise.resolve(ref.text) : readConfigText(ref.path, readText);
