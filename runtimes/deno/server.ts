import { createRegistry, createStoreFromConfig, errorResponse, RegistryError, registryOptionsFrom, type Config, type Registry } from "../../src/index.ts";
import { DenoStore } from "./deno-store.ts";
import { createNodeCryptoHasher } from "../shared/node-crypto-hasher.ts";

export interface ServeOptions {
  registry: Registry;
  host?: string;
  /** 0 for a free port. Default 5000. */
  port?: number;
  accessLog?: (entry: AccessLogEntry) => void;
}

export interface AccessLogEntry {
  method: string;
  url: string;
  status: number;
  /** Body bytes sent; undefined when a response was cut short and could not be counted. */
  bytes: number | undefined;
  ms: number;
  aborted: boolean;
}

export interface RunningServer {
  url: string;
  server: Deno.HttpServer<Deno.NetAddr>;
  /** Stop accepting, let in-flight requests finish (up to `graceMs`). */
  close(graceMs?: number): Promise<void>;
}

/** The registry a configuration describes, on Deno: storage through Deno.open (or S3), node:crypto hashing. */
export async function createDenoRegistry(config: Config): Promise<Registry> {
  const store = await createStoreFromConfig(config, async () => {
    const fs = new DenoStore(config.storage.root);
    await fs.probe(); // an unusable --root stops the server here, not at the first push
    await fs.removeStaleTempFiles();
    return fs;
  });
  return createRegistry(await registryOptionsFrom(config, { store, hasher: createNodeCryptoHasher, readText: (path) => Deno.readTextFile(path) }));
}

/** Serve a registry on Deno.serve. */
export function serve(options: ServeOptions): RunningServer {
  const { registry, host = "127.0.0.1", port: wanted = 5000 } = options;
  const log = options.accessLog;
  const drain = new Drain();
  const server = Deno.serve({
    hostname: host,
    port: wanted,
    onListen: () => {}, // main.ts prints the one line tests and users look for
  }, async (request, info) => {
    if (drain.closing) return errorResponse(shuttingDown(), request.method);
    const started = performance.now();
    const done = drain.begin();
    info.completed.then(done, done);
    // The core answers its own errors; a bug that escapes it still gets the one serializer's 500.
    const response = await registry.fetch(request).catch((error) => errorResponse(error, request.method));
    if (!log) return response;
    const { pathname, search } = new URL(request.url);
    const sent = { bytes: 0, counted: true };
    const entry = (aborted: boolean): AccessLogEntry => ({
      method: request.method,
      url: pathname + search,
      status: response.status,
      bytes: aborted && !sent.counted ? undefined : sent.bytes,
      ms: performance.now() - started,
      aborted,
    });
    info.completed.then(() => log(entry(false)), () => log(entry(true)));
    return countBody(request, response, sent);
  });
  const { port } = server.addr;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    server,
    close: async (graceMs = 10_000) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
      // Drain first, shut down after: Deno 2.9's shutdown() makes in-flight request bodies
      // unreadable (denoland/deno#36809), which would fail every upload still arriving.
      await Promise.race([drain.close().then(() => server.shutdown()), grace]);
      clearTimeout(timer);
    },
  };
}

const shuttingDown = () =>
  new RegistryError("UNAVAILABLE", null, { message: "shutting down", headers: { connection: "close", "retry-after": "1" } });

/** Counts requests until their responses are sent; `close()` resolves when none are left. */
class Drain {
  closing = false;
  private inFlight = 0;
  private idle?: () => void;

  begin(): () => void {
    this.inFlight++;
    return () => {
      if (--this.inFlight === 0) this.idle?.();
    };
  }

  close(): Promise<void> {
    this.closing = true;
    return this.inFlight === 0 ? Promise.resolve() : new Promise((resolve) => (this.idle = resolve));
  }
}

/**
 * Count the body bytes the access log reports. A Content-Length body is taken at its
 * length, not counted (wrapping a file stream would lose Deno.serve's native send path),
 * so when such a response is cut short its count is unknown. Others are counted as they pass.
 */
function countBody(request: Request, response: Response, sent: { bytes: number; counted: boolean }): Response {
  if (!response.body || request.method === "HEAD") return response;
  const length = Number(response.headers.get("content-length") ?? NaN);
  if (Number.isInteger(length)) {
    sent.bytes = length;
    sent.counted = false;
    return response;
  }
  const counter = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      sent.bytes += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
  return new Response(response.body.pipeThrough(counter), response);
}
