/**
 * Berth's log lines, the same on every runtime: `text` (one human line) or `json` (one JSON
 * object per line: time, level, msg, then fields). The access line has the same fields in
 * both. Nothing here ever sees a credential: callers pass only names (the user), never headers.
 */

export type LogFormat = "text" | "json";
export type LogLevel = "debug" | "info" | "warn" | "error";
export const LOG_LEVELS: LogLevel[] = ["debug", "info", "warn", "error"];

export type LogFields = Record<string, string | number | boolean | undefined | null>;

export interface Logger {
  readonly format: LogFormat;
  log(level: LogLevel, msg: string, fields?: LogFields): void;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** One access line (level info). */
  access(entry: AccessEntry): void;
}

export interface LoggerOptions {
  format?: LogFormat;
  level?: LogLevel;
  /** Where a finished line goes; default console.log (debug, info) and console.error (warn, error). */
  write?: (line: string, level: LogLevel) => void;
}

const defaultWrite = (line: string, level: LogLevel) => (level === "warn" || level === "error" ? console.error(line) : console.log(line));

export function createLogger(options: LoggerOptions = {}): Logger {
  const format = options.format ?? "text";
  const min = LOG_LEVELS.indexOf(options.level ?? "info");
  const write = options.write ?? defaultWrite;
  const log = (level: LogLevel, msg: string, fields: LogFields = {}) => {
    if (LOG_LEVELS.indexOf(level) < min) return;
    write(format === "json" ? jsonLine(level, msg, fields) : textLine(level, msg, fields), level);
  };
  return {
    format,
    log,
    debug: (msg, fields) => log("debug", msg, fields),
    info: (msg, fields) => log("info", msg, fields),
    warn: (msg, fields) => log("warn", msg, fields),
    error: (msg, fields) => log("error", msg, fields),
    access: (entry) => {
      if (min <= 1) write(formatAccessLine(format, entry), "info");
    },
  };
}

function jsonLine(level: LogLevel, msg: string, fields: LogFields): string {
  return JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields });
}

/** `berth: <msg> key=value ...`; warnings and errors say so. */
function textLine(level: LogLevel, msg: string, fields: LogFields): string {
  const rest = Object.entries(fields)
    .filter(([, v]) => v !== undefined && v !== null && v !== "")
    .map(([k, v]) => `${k}=${typeof v === "string" && /[\s"=]/.test(v) ? JSON.stringify(v) : v}`);
  // Start-up lines already begin with "berth" ("berth listening on URL", which tests and users look for).
  const prefix = msg.startsWith("berth") ? "" : "berth: ";
  return [`${prefix}${level === "warn" || level === "error" ? `${level}: ` : ""}${msg}`, ...rest].join(" ");
}

/** One request, as the access line reports it. */
export interface AccessEntry {
  requestId: string;
  client?: string;
  user?: string;
  method: string;
  path: string;
  status: number;
  bytesIn?: number;
  bytesOut?: number;
  ms: number;
  userAgent?: string;
  /** The client went away before the response was complete. */
  aborted: boolean;
}

/** The access line: text is Common Log Format's order, bytes `-` when unknown; json has the same fields. */
export function formatAccessLine(format: LogFormat, e: AccessEntry): string {
  if (format === "json") {
    return JSON.stringify({ time: new Date().toISOString(), level: "info", msg: "access", requestId: e.requestId, client: e.client, user: e.user, method: e.method, path: e.path, status: e.status, bytesIn: e.bytesIn, bytesOut: e.bytesOut, ms: Math.round(e.ms * 10) / 10, userAgent: e.userAgent, aborted: e.aborted || undefined });
  }
  return `${new Date().toISOString()} ${e.client ?? "-"} ${e.user ?? "-"} "${e.method} ${e.path}" ${e.status} ${e.bytesIn ?? "-"} ${e.bytesOut ?? "-"} ${e.ms.toFixed(1)}ms ${JSON.stringify(e.userAgent ?? "-")} id=${e.requestId}${e.aborted ? " client-disconnected" : ""}`;
}
