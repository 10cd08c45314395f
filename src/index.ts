// Public API: the portable handler, its options and types, and the Web-only stores.
export { createRegistry, type Registry } from "./handler.ts";
export type * from "./options.ts";
export { RegistryError, ERROR_CODES, errorResponse, type ErrorCode } from "./errors.ts";
export { rejectRequestLine } from "./request-line.ts";
export { createPortableHasher, type Hasher, type HasherFactory, type HashAlgorithm } from "./hashing.ts";
export { NotFoundError } from "./storage/blob-store.ts";
export type * from "./storage/blob-store.ts";
export { MemoryStore } from "./storage/memory.ts";
export { FileTreeStore } from "./storage/file-tree.ts";
export { S3Store, type S3StoreOptions } from "./storage/s3/store.ts";
export type { FileSystem, FileEntry, FileStat } from "./storage/file-system.ts";
export { parseArgv, resolveConfig, loadConfig, readFileRef, type ParsedArgv, type ConfigSources } from "./config/load.ts";
export { optionsHelp, commandsHelp } from "./config/help.ts";
export { OPTIONS, ENV_NAMES, STANDARD_ENV_NAMES, COMMANDS, type Command, type OptionSpec } from "./config/options.ts";
export type { Config } from "./config/schema.ts";
export { ConfigError, type FileRef } from "./config/values.ts";
export { registryOptionsFrom, type RuntimeParts } from "./config/registry-options.ts";
export { createStoreFromConfig, describeStorage } from "./config/store.ts";
export { VERSION } from "./version.ts";
export { loggerFrom } from "./config/registry-options.ts";
export { createLogger, formatAccessLine, type Logger, type LogFormat, type LogLevel, type LogFields, type AccessEntry } from "./ops/log.ts";
export type { ExchangeInfo, ExchangeOutcome } from "./ops/exchange.ts";
export type { OpsOptions } from "./ops/ops.ts";
export type { MetricsSnapshot } from "./ops/metrics.ts";
export type { WebhookEndpoint, WebhookAction, WebhookEvent } from "./ops/webhooks.ts";
export {
  collectGarbage, collectGarbageSlice, startGcSchedule, measureUsage, formatGcReport, formatUsage, formatBytes, gcOptionsFrom, runLifecycleCommand,
  type GcObserver, type GcOptions, type GcReport, type GcSchedule, type UsageReport, type RetentionRule,
} from "./lifecycle/index.ts";
