/** The options part of `berth <command> --help`, generated from the one option table. */
import { COMMANDS, OPTIONS, type Command } from "./options.ts";

export function optionsHelp(command: Command): string {
  const rows = OPTIONS.filter((o) => o.flag && (o.commands ?? ["serve"]).includes(command)).map((o) => {
    const flag = `--${o.flag}${o.arg ? ` ${o.arg}` : ""}`;
    const extra = [o.env && !o.flagOnly ? o.env : "", o.default !== undefined && o.kind !== "boolean" && !o.flagOnly ? `default ${describeDefault(o.default, o.kind)}` : ""].filter(Boolean).join(", ");
    return `  ${flag.padEnd(26)}${o.help}${extra ? ` (${extra})` : ""}`;
  });
  return `Options of ${command} (flags override BERTH_* variables, which override --config FILE):\n${rows.join("\n")}\n  -h, --help                show this help\n  -v, --version             print the version\n`;
}

export function commandsHelp(): string {
  return `Commands:\n${Object.entries(COMMANDS).map(([name, help]) => `  ${name.padEnd(26)}${help}`).join("\n")}\n`;
}

function describeDefault(value: unknown, kind: string): string {
  if (kind === "duration") return `${Number(value) / 1000}s`;
  if (kind === "bytes") return `${Number(value) / 1024 / 1024}MiB`;
  return Array.isArray(value) ? value.join(",") || "none" : String(value);
}
