// fetch for the suites' own HTTP checks, trusting a test-made CA for origins that serve
// HTTPS with one (the Worker launcher's wrangler dev --local-protocol https). Node 20's
// fetch reads extra CAs only at process start (NODE_EXTRA_CA_CERTS), so those origins go
// through node:https with the CA instead.
import { request } from 'node:https';
import { Readable } from 'node:stream';

const trusted = new Map<string, string>();

/** Trust `caPem` for requests to `origin` (e.g. https://127.0.0.1:8787). */
export function trustCa(origin: string, caPem: string): void {
  trusted.set(new URL(origin).origin, caPem);
}

export function e2eFetch(url: string, init: RequestInit = {}): Promise<Response> {
  const ca = trusted.get(new URL(url).origin);
  if (!ca) return fetch(url, init);
  const method = init.method ?? 'GET';
  const headers = Object.fromEntries(new Headers(init.headers).entries());
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, ca }, (res) => {
      const status = res.statusCode ?? 500;
      const responseHeaders = new Headers();
      for (const [key, value] of Object.entries(res.headers)) if (value !== undefined) responseHeaders.set(key, Array.isArray(value) ? value.join(', ') : value);
      const empty = method === 'HEAD' || status === 204 || status === 304;
      if (empty) res.resume();
      resolve(new Response(empty ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>), { status, headers: responseHeaders }));
    });
    req.once('error', reject);
    if (typeof init.body === 'string' || init.body instanceof Uint8Array) req.end(init.body);
    else if (init.body == null) req.end();
    else reject(new Error('e2eFetch: only string and byte bodies'));
  });
}
