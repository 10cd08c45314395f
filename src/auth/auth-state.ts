/**
 * The users (htpasswd) and the policy in force, and their reloading. Sources that can change
 * (files on Node and Deno) are re-read through the injected reader at most every
 * `intervalMs`, awaited by the request that finds them due, so removing a user takes effect
 * within seconds on every runtime without a timer; `reload()` (SIGHUP) re-reads now. A reload
 * that fails keeps what was in force and says why.
 */
import { NOT_JSON, parseJsonDocument } from "../config/document.ts";
import { parseHtpasswd } from "./basic.ts";
import { parsePolicy, parsePolicyText, shorthandPolicy, type Policy } from "./policy.ts";

export interface AuthSources {
  htpasswd: string;
  /** Policy text (YAML/JSON) or its parsed document; none: the shorthand of the flags. */
  policy?: string | object;
  anonymousPull?: boolean;
  readOnlyUsers?: string[];
  /** Re-readers of the sources that can change. */
  reload?: { htpasswd?: () => Promise<string>; policy?: () => Promise<string>; intervalMs?: number };
}

export interface AuthState {
  users: Map<string, string>;
  policy: Policy;
}

/** Throws an Error naming the source at fault (`htpasswd: line 3: ...`, `policy: rules[0]...`). */
export async function buildState(htpasswd: string, policy: string | object | undefined, sources: AuthSources): Promise<AuthState> {
  const users = await named("htpasswd", async () => parseHtpasswd(htpasswd));
  const parsed = await named("policy", async () =>
    policy === undefined
      ? shorthandPolicy(users.keys(), sources)
      : typeof policy === "string" ? await parsePolicyText(policy) : parsePolicy(policy),
  );
  return { users, policy: parsed };
}

/**
 * The state at once, when no source needs the YAML parser (htpasswd, a policy object or JSON
 * text, the shorthand): then a bad source throws here, from createRegistry, as bad
 * configuration should. Only YAML policy text waits for the parser, imported on first use.
 */
function buildStateSoon(htpasswd: string, policy: string | object | undefined, sources: AuthSources): Promise<AuthState> {
  const document = typeof policy === "string" ? parseJsonDocument(policy) : policy;
  if (document === NOT_JSON) return buildState(htpasswd, policy, sources);
  const users = namedNow("htpasswd", () => parseHtpasswd(htpasswd));
  const parsed = namedNow("policy", () => (document === undefined ? shorthandPolicy(users.keys(), sources) : parsePolicy(document)));
  return Promise.resolve({ users, policy: parsed });
}

function namedNow<T>(source: string, build: () => T): T {
  try {
    return build();
  } catch (error) {
    throw new Error(`${source}: ${(error as Error).message}`);
  }
}

async function named<T>(source: string, build: () => Promise<T>): Promise<T> {
  try {
    return await build();
  } catch (error) {
    throw new Error(`${source}: ${(error as Error).message}`);
  }
}

export class AuthStateHolder {
  /** A promise: policy text may need the YAML parser, imported on first use (config/document.ts). */
  private state: Promise<AuthState>;
  private texts: { htpasswd: string; policy: string | object | undefined };
  private nextCheck: number;
  private pending?: Promise<void>;
  /** The texts of the last reload that failed, so a broken file is reported once, not every few seconds. */
  private failed?: { htpasswd: string; policy: string | object | undefined };

  constructor(private sources: AuthSources) {
    this.state = buildStateSoon(sources.htpasswd, sources.policy, sources);
    // Bad YAML policy text given to createRegistry (the CLI and Workers check theirs at start):
    // said at once, and every request fails through current() with the reason.
    this.state.catch((error: Error) => console.error(`berth: ${error.message}`));
    this.texts = { htpasswd: sources.htpasswd, policy: sources.policy };
    this.nextCheck = Date.now() + this.interval;
  }

  private get interval(): number {
    return this.sources.reload?.intervalMs ?? 3000;
  }

  async current(): Promise<AuthState> {
    if (this.sources.reload && Date.now() >= this.nextCheck) await this.reload();
    return await this.state;
  }

  /** Re-read the changeable sources now; concurrent callers share one re-read. */
  reload(): Promise<void> {
    this.pending ??= this.reread().finally(() => {
      this.pending = undefined;
      this.nextCheck = Date.now() + this.interval;
    });
    return this.pending;
  }

  private async reread(): Promise<void> {
    const { reload } = this.sources;
    if (!reload) return;
    try {
      const htpasswd = reload.htpasswd ? await reload.htpasswd() : this.texts.htpasswd;
      const policy = reload.policy ? await reload.policy() : this.texts.policy;
      if (htpasswd === this.texts.htpasswd && policy === this.texts.policy) return;
      if (htpasswd === this.failed?.htpasswd && policy === this.failed.policy) return;
      try {
        const state = await buildState(htpasswd, policy, this.sources);
        this.state = Promise.resolve(state);
      } catch (error) {
        this.failed = { htpasswd, policy };
        throw error;
      }
      this.texts = { htpasswd, policy };
      console.log(`berth: auth reloaded (${(await this.state).users.size} users)`);
    } catch (error) {
      console.error(`berth: auth reload failed, keeping the previous users and policy: ${(error as Error).message}`);
    }
  }
}
