// Certificates renewed on disk (certbot, acme clients), on Node and Deno: the two files are
// polled (a stat each per second; polling follows symlink swaps and renames, which file
// watchers lose) and a changed pair goes to `onChange`, which makes it the context of new
// connections (setSecureContext). A pair that does not load (one file written, the other not
// yet) keeps the old one, with a warning, until the next change.
import { readFile, stat } from "node:fs/promises";
import type { Logger } from "../../src/ops/log.ts";

export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

export interface Pem {
  cert: string;
  key: string;
}

const POLL_MS = 1000;

export async function readPem(tls: TlsFiles): Promise<Pem> {
  const [cert, key] = await Promise.all([readFile(tls.certFile, "utf8"), readFile(tls.keyFile, "utf8")]);
  return { cert, key };
}

/** Calls `onChange` with the new pair after either file changes; returns the stop function. */
export function watchCertificate(tls: TlsFiles, logger: Logger | undefined, onChange: (pem: Pem) => void): () => void {
  // mtime alone misses a rename of a file copied with its time kept; inode and size catch it.
  const stampOf = (file: string) => stat(file).then((s) => `${s.mtimeMs}:${s.size}:${s.ino}`, () => "missing");
  const stamp = async () => (await Promise.all([stampOf(tls.certFile), stampOf(tls.keyFile)])).join("|");
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
  timer.unref?.();
  return () => clearInterval(timer);
}
