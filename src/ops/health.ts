/**
 * `GET /healthz`: the process answers. `GET /readyz`: the store answers too, checked by a
 * small write, read and delete within a timeout (zot's /livez and /readyz, distribution's
 * storage health check). Neither needs auth: they say nothing about what is stored.
 */
import { healthProbeKey } from "../paths.ts";
import type { BlobStore } from "../storage/blob-store.ts";
import { readBytes } from "../streams.ts";

export interface CheckResult {
  ok: boolean;
  ms: number;
  error?: string;
}

const PROBE = new TextEncoder().encode("berth readiness probe\n");

/** Write, read back and delete a small object; throws on any failure or a wrong read. */
async function probeStore(store: BlobStore): Promise<void> {
  const key = healthProbeKey(crypto.randomUUID());
  try {
    await store.put(key, PROBE.slice(), { size: PROBE.byteLength });
    const object = await store.get(key);
    if (!object) throw new Error("the probe object was written but cannot be read");
    const bytes = await readBytes(object);
    if (bytes.byteLength !== PROBE.byteLength || !bytes.every((b, i) => b === PROBE[i])) throw new Error("the probe object reads back different bytes");
  } finally {
    await store.delete(key).catch(() => {});
  }
}

async function runCheck(check: () => Promise<void>, timeoutMs: number): Promise<CheckResult> {
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => void (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)));
  try {
    await Promise.race([check(), timeout]);
    return { ok: true, ms: elapsed(started) };
  } catch (error) {
    return { ok: false, ms: elapsed(started), error: error instanceof Error ? error.message : String(error) };
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

const elapsed = (started: number) => Math.round((performance.now() - started) * 10) / 10;

const noStore = { "Cache-Control": "no-store" };

export const healthResponse = () => Response.json({ status: "ok" }, { headers: noStore });

export async function readinessResponse(store: BlobStore, timeoutMs: number): Promise<Response> {
  const checks = { store: await runCheck(() => probeStore(store), timeoutMs) };
  const failed = Object.entries(checks).filter(([, result]) => !result.ok).map(([name]) => name);
  const body = failed.length ? { status: "not ready", failed, checks } : { status: "ready", checks };
  return Response.json(body, { status: failed.length ? 503 : 200, headers: noStore });
}
