import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createRegistry, errorResponse, RegistryError, registryOptionsFrom, type Config, type Registry } from "../../src/index.ts";
import { DenoStore } from "./deno-store.ts";
import { createNodeCryptoHasher } from "../shared/node-crypto-hasher.ts";
import { toRequestListener, type AccessLogEntry } from "../shared/http-adapter.ts";

export interface ServeOptions {
  registry: Registry;
  host?: string;
  /** 0 for a free port. Default 5000. */
  port?: number;
  accessLog?: (entry: AccessLogEntry) => void;
}

export interface RunningServer {
  url: string;
  server: Server;
  /** Stop accepting, let in-flight requests finish (up to `graceMs`). */
  close(graceMs?: number): Promise<void>;
}

/** The registry a configuration describes, on Deno: storage through Deno.open, node:crypto hashing. */
export async function createDenoRegistry(config: Config): Promise<Registry> {
  const store = new DenoStore(config.storage.root);
  await store.probe(); // an unusable --root stops the server here, not at the first push
  await store.removeStaleTempFiles();
  return createRegistry(await registryOptionsFrom(config, { store, hasher: createNodeCryptoHasher, readText: (path) => Deno.readTextFile(path) }));
}

/** Serve a registry on Deno's node:http, through the same adapter as Node (see README: Deno.serve is slow for chunked bodies). */
export async function serve(options: ServeOptions): Promise<RunningServer> {
  const { registry, host = "127.0.0.1", port: wanted = 5000 } = options;
  // node:http on Deno throws a missing --allow-net from a later tick, past listen's "error"
  // event (an uncaught crash): ask first, so main.ts names the permission to grant.
  const address = `${host.includes(":") ? `[${host}]` : host}:${wanted}`;
  if (Deno.permissions.querySync({ name: "net", host: address }).state !== "granted") {
    throw new Deno.errors.NotCapable(`Requires net access to "${address}", run again with the --allow-net flag`);
  }
  const drain = new Drain();
  const listener = toRequestListener((request) => registry.fetch(request), options.accessLog);
  const refuse = toRequestListener((request) => Promise.resolve(errorResponse(shuttingDown(), request.method)), options.accessLog);
  // Idle keep-alive connections outlive Go clients' 90 s, as on Node (runtimes/node/server.ts).
  const server = createServer({ keepAliveTimeout: 120_000, headersTimeout: 121_000 }, (req, res) => {
    if (drain.closing) return refuse(req, res);
    const done = drain.begin();
    res.once("close", done);
    listener(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(wanted, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    server,
    close: async (graceMs = 10_000) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
      server.close();
      server.closeIdleConnections();
      await Promise.race([drain.close(), grace]);
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

