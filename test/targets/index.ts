/**
 * Test targets: one registry behind a uniform `fetch(path, init)`, so the HTTP suite in
 * test/http runs unchanged against every runtime. Targets are data-driven: add a kind to
 * TARGET_KINDS (deno, worker, ...) and every suite picks it up. Select kinds with
 * BERTH_TARGETS=in-process,node (default: every kind marked `default`).
 */
import { afterAll, beforeAll, describe } from "vitest";
import type { AuthOptions, RegistryHooks } from "../../src/options.ts";
import { denoBinary } from "../lib/berth-command.ts";

export interface TargetOptions {
  auth?: AuthOptions;
  hooks?: RegistryHooks;
  uploadExpiryMs?: number;
  maxManifestBytes?: number;
  /** Storage lifecycle settings, for serve and for gc alike (their config keys). */
  lifecycle?: LifecycleOptions;
  /** The web UI on or off (--no-ui) and CORS origins (--cors-origins). */
  ui?: boolean;
  corsOrigins?: string[];
  /** Pull-through cache: `--upstream` values (`URL` or `NS=URL`), and the tag TTL in seconds. */
  upstreams?: string[];
  upstreamTagTtlSeconds?: number;
}

export interface LifecycleOptions {
  /** --grace, e.g. "0s". */
  grace?: string;
  deleteUntagged?: boolean;
  /** --no-delete on the server. */
  noDelete?: boolean;
  /** --gc-interval on the server (Node and Deno), which then also takes --grace and --delete-untagged. */
  interval?: string;
  /** The config file's `retention` rules, as written there. */
  retention?: unknown[];
}

export type LifecycleCommand = "gc" | "du";

export interface Target {
  /** The kind, e.g. "in-process" or "node". */
  name: string;
  /** `path` is an origin-relative URL such as `/v2/`. Redirects are never followed. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
  /** Set when the registry listens on a real socket (raw node:http tests use it). */
  baseUrl?: string;
  /** Set when the target owns a storage directory: its parent holds nothing else of the registry's. */
  rootDir?: string;
  /**
   * `berth gc` / `berth du` on the target's storage while it serves (the CLI on Node and Deno,
   * the Cron handler's slices on Workers, the library in-process), with `flags` added; its output.
   */
  lifecycle(command: LifecycleCommand, flags?: string[]): Promise<string>;
  /** Rewrite the htpasswd or policy file the registry was started with (reload tests). */
  writeAuthFile?(which: "htpasswd" | "policy", text: string): Promise<void>;
  /** SIGHUP: re-read them now. */
  hangUp?(): Promise<void>;
}

/** A Target for a registry listening at `baseUrl`, spoken to with real fetch over a socket. */
export function socketTarget(name: string, baseUrl: string, close: () => Promise<void> = async () => {}, rootDir?: string): Target {
  return {
    name,
    baseUrl,
    rootDir,
    async fetch(path, init = {}) {
      const streaming = init.body instanceof ReadableStream;
      return fetch(baseUrl + path, { redirect: "manual", ...init, ...(streaming ? { duplex: "half" } : {}) } as RequestInit);
    },
    close,
    lifecycle: () => Promise.reject(new Error(`${name} target: no lifecycle command`)),
  };
}

/** What a target kind can be configured with; suites skip tests whose needs a kind lacks. */
export interface Capabilities {
  /** auth.htpasswd, auth.policy, auth.anonymousPull, auth.token. */
  htpasswd: boolean;
  /** auth.readOnlyUsers and auth.realm. */
  authOptions: boolean;
  /** htpasswd and policy are files that can change under the server (not on Workers: secrets). */
  authReload: boolean;
  /** auth.authorize (a function: only in-process). */
  customAuthorizer: boolean;
  /** hooks (functions: only in-process). */
  hooks: boolean;
  /** uploadExpiryMs and maxManifestBytes (the CLI's --upload-expiry and --max-manifest-size). */
  limits: boolean;
  /** A request may claim a Content-Length the body does not have (only without a socket). */
  forgedContentLength: boolean;
  /** Listens on a socket: raw HTTP, client disconnects, un-normalized paths. */
  socket: boolean;
  /** `lifecycle()` runs gc/du on the target's storage (the CLI, the Cron handler or the library). */
  gc: boolean;
  /** One process answers every request (per-process work such as "the upstream is asked once" is countable). */
  oneProcess: boolean;
  /** /metrics counts every request the target answered: one process, or `--workers` (the primary sums them). */
  countsAll: boolean;
  /** `berth du` and `gc --dry-run` (a command line; Workers collect only on their Cron Trigger). */
  lifecycleCli: boolean;
  /** ui and corsOrigins. */
  uiOptions: boolean;
}

interface TargetKind {
  capabilities: Capabilities;
  /** Included when BERTH_TARGETS is not set. */
  default: boolean;
  create(options: TargetOptions): Promise<Target>;
}

/** What `berth serve` in a process of its own offers (the node, deno and s3 kinds start from it). */
const SERVE_PROCESS: Capabilities = {
  htpasswd: true,
  authOptions: true,
  authReload: true,
  customAuthorizer: false,
  hooks: false,
  limits: true,
  forgedContentLength: false,
  socket: true,
  oneProcess: true,
  countsAll: true,
  gc: true,
  lifecycleCli: true,
  uiOptions: true,
};

/** Two processes on one bucket: auth files are read at start only (no reload), and each process counts its own work. */
const TWO_PROCESSES: Capabilities = { ...SERVE_PROCESS, authReload: false, oneProcess: false, countsAll: false };

export const TARGET_KINDS: Record<string, TargetKind> = {
  "in-process": {
    default: true,
    capabilities: { ...SERVE_PROCESS, customAuthorizer: true, hooks: true, forgedContentLength: true, socket: false },
    create: async (options) => (await import("./in-process.ts")).createInProcessTarget(options),
  },
  node: {
    default: true,
    capabilities: SERVE_PROCESS,
    create: async (options) => (await import("./cli.ts")).createCliTarget("node", options),
  },
  // `berth serve --workers 2` on Node: two processes behind one port (node:cluster), which
  // deals connections out in turn; /metrics sums both, the upstream may be asked by each. fetch
  // keeps connections alive, so mostly concurrent requests reach both workers here; requests
  // placed on each worker on purpose are test/serve-workers.test.ts.
  "node-workers": {
    default: true,
    capabilities: { ...SERVE_PROCESS, oneProcess: false },
    create: async (options) => (await import("./cli.ts")).createCliTarget("node", options, ["--workers", "2"]),
  },
  // runtimes/deno/main.ts under `deno run` with least-privilege permissions; default when deno is installed.
  deno: {
    default: denoBinary() !== null,
    capabilities: SERVE_PROCESS,
    create: async (options) => (await import("./cli.ts")).createCliTarget("deno", options),
  },
  // Two `berth serve` processes on one bucket of a real S3 server (s3rver); requests alternate between them.
  s3: {
    default: false,
    capabilities: TWO_PROCESSES,
    create: async (options) => (await import("./s3.ts")).createS3Target(options),
  },
  // The same with the second process on Deno: Node and Deno sharing one bucket.
  "s3-deno": {
    default: false,
    capabilities: TWO_PROCESSES,
    create: async (options) => (await import("./s3.ts")).createS3Target(options, "deno"),
  },
  // runtimes/cloudflare in real workerd (Miniflare) with a local R2 bucket; config through vars.
  // Secrets cannot change under a running Worker, and it collects only on its Cron Trigger.
  worker: {
    default: true,
    capabilities: { ...SERVE_PROCESS, authReload: false, lifecycleCli: false, uiOptions: false },
    create: async (options) => (await import("./worker.ts")).createWorkerTarget(options),
  },
};

/** The kinds selected for this run. */
export function targetKinds(): string[] {
  const selected = process.env.BERTH_TARGETS?.split(",").map((s) => s.trim()).filter(Boolean);
  const kinds = selected?.length ? selected : Object.keys(TARGET_KINDS).filter((k) => TARGET_KINDS[k]!.default);
  for (const kind of kinds) {
    if (!TARGET_KINDS[kind]) {
      throw new Error(`BERTH_TARGETS: unknown target "${kind}" (known: ${Object.keys(TARGET_KINDS).join(", ")})`);
    }
  }
  return kinds;
}

export function capabilitiesOf(kind: string): Capabilities {
  const entry = TARGET_KINDS[kind];
  if (!entry) throw new Error(`unknown target "${kind}"`);
  return entry.capabilities;
}

export async function createTarget(kind: string, options: TargetOptions = {}): Promise<Target> {
  const entry = TARGET_KINDS[kind];
  if (!entry) throw new Error(`unknown target "${kind}"`);
  const caps = entry.capabilities;
  const auth = options.auth ?? {};
  const unsupported = [
    (auth.htpasswd !== undefined || auth.anonymousPull) && !caps.htpasswd && "auth.htpasswd/anonymousPull",
    (auth.readOnlyUsers || auth.realm) && !caps.authOptions && "auth.readOnlyUsers/realm",
    auth.reload && !caps.authReload && "auth.reload",
    auth.authorize && !caps.customAuthorizer && "auth.authorize",
    options.hooks && !caps.hooks && "hooks",
    (options.uploadExpiryMs !== undefined || options.maxManifestBytes !== undefined) && !caps.limits && "limits",
    (options.ui !== undefined || options.corsOrigins) && !caps.uiOptions && "ui/corsOrigins",
  ].filter(Boolean);
  if (unsupported.length) throw new Error(`target ${kind} cannot be configured with ${unsupported.join(", ")}`);
  return entry.create(options);
}

/**
 * Run `suite` once per selected target kind, in a describe block named after the kind.
 * With `requires`, kinds lacking any of those capabilities get the block skipped (reported
 * as skipped, not silently dropped).
 */
export function describeTargets(
  title: string,
  suite: (kind: string, caps: Capabilities) => void,
  requires: (keyof Capabilities)[] = [],
): void {
  for (const kind of targetKinds()) {
    const caps = capabilitiesOf(kind);
    const missing = requires.filter((need) => !caps[need]);
    const name = missing.length ? `${title} [${kind}] (needs ${missing.join(", ")})` : `${title} [${kind}]`;
    describe.skipIf(missing.length > 0)(name, () => suite(kind, caps));
  }
}

/**
 * Start a target for the enclosing describe block (beforeAll) and stop it afterwards.
 * Returns a getter: tests call it to reach the running target.
 */
export function useTarget(kind: string, options: TargetOptions = {}): () => Target {
  let target: Target | undefined;
  beforeAll(async () => {
    target = await createTarget(kind, options);
  }, 60_000);
  afterAll(async () => {
    await target?.close();
  });
  return () => {
    if (!target) throw new Error(`target ${kind} did not start`);
    return target;
  };
}

