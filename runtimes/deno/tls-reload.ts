// Certificates renewed on disk (certbot, acme clients), on Deno: the files are polled (a stat
// per second; polling follows symlink swaps and renames, which file watchers lose) and a changed
// pair is handed to `onChange`, which starts a listener with it. Deno.serve cannot swap the
// certificate of a running listener, so a new one binds next to it (reusePort) and the old
// one retires (server.ts).
import type { Logger } from "../../src/index.ts";

export interface Pem {
  cert: string;
  key: string;
}

const POLL_MS = 1000;

export async function readPem(tls: { certFile: string; keyFile: string }): Promise<Pem> {
  const [cert, key] = await Promise.all([Deno.readTextFile(tls.certFile), Deno.readTextFile(tls.keyFile)]);
  return { cert, key };
}

/** Calls `onChange` with the new pair after either file changes; returns the stop function. */
export function watchCertificate(tls: { certFile: string; keyFile: string }, logger: Logger | undefined, onChange: (pem: Pem) => void): () => void {
  const stamp = async () => (await Promise.all([tls.certFile, tls.keyFile].map((file) => Deno.stat(file).then((s) => `${s.mtime?.getTime()}:${s.size}:${s.ino}`, () => "missing")))).join("|");
  let last: string | undefined;
  let busy = false;
  void stamp().then((first) => (last ??= first));
  const timer = setInterval(async () => {
    if (busy) return;
    busy = true;
    try {
      const now = await stamp();
      if (last === undefined || now === last) return;
      last = now;
      onChange(await readPem(tls));
      logger?.info("TLS certificate reloaded", { cert: tls.certFile });
    } catch (error) {
      logger?.warn("TLS certificate not reloaded, still serving the previous one", { cert: tls.certFile, error: (error as Error).message });
    } finally {
      busy = false;
    }
  }, POLL_MS);
  Deno.unrefTimer(timer);
  return () => clearInterval(timer);
}
