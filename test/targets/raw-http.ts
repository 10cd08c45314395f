/**
 * Raw HTTP/1.1 requests with node:http, for what fetch hides or normalizes: the exact
 * bytes of HEAD responses, un-normalized paths (`/v2/../x`), and clients that vanish.
 */
import { request as httpRequest, type Agent, type IncomingHttpHeaders } from "node:http";

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export function rawRequest(
  baseUrl: string,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: Uint8Array | string; agent?: Agent; timeoutMs?: number } = {},
): Promise<RawResponse> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, method, path, headers: options.headers, agent: options.agent ?? false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    if (options.timeoutMs) {
      const timer = setTimeout(() => {
        const error = new Error(`${method} ${path}: no complete response within ${options.timeoutMs} ms`);
        req.destroy(error);
        reject(error);
      }, options.timeoutMs);
      req.on("close", () => clearTimeout(timer));
    }
    req.end(options.body);
  });
}

/**
 * Send the headers and `sent` bytes of a request announcing `announced` bytes, then
 * destroy the socket: a client that disconnects mid-upload.
 */
export function abortedRequest(
  baseUrl: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  sent: Uint8Array,
): Promise<void> {
  const url = new URL(baseUrl);
  return new Promise((resolve) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path, headers, agent: false });
    req.on("error", () => resolve()); // the destroy below surfaces here
    req.on("response", () => resolve()); // the server may answer early; fine either way
    req.write(sent, () => {
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 100);
    });
  });
}

/**
 * GET `path`, read the status and at least `keep` body bytes, then destroy the socket: a
 * client that goes away mid-download. Resolves with the status and the bytes it kept.
 */
export function abandonedDownload(baseUrl: string, path: string, keep: number): Promise<{ status: number; received: number }> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method: "GET", path, agent: false }, (res) => {
      let received = 0;
      res.on("data", (chunk: Buffer) => {
        received += chunk.byteLength;
        if (received < keep) return;
        req.destroy();
        resolve({ status: res.statusCode!, received });
      });
      res.on("end", () => resolve({ status: res.statusCode!, received }));
    });
    req.on("error", (error) => (req.destroyed ? undefined : reject(error)));
    req.end();
  });
}
