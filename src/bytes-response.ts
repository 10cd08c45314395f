/**
 * Small response bodies (a manifest) without a body stream. On Node 20 `new Response(bytes)`
 * builds a ReadableStream (~10 µs, most of it undici's makeTransferable), and the Node
 * adapter reads that stream straight back into bytes: at 8k manifest GETs a second the
 * pair was about a tenth of the server's CPU. A response made here has no body; its bytes
 * ride beside it, for the shim that writes responses itself and says so (`ExchangeInfo`'s
 * `writesBytes`). For every other caller the registry's `fetch` puts them inside before
 * anyone sees the Response, so they only ever get an ordinary Response.
 */
// The bytes ride on the Response under a symbol, not in a WeakMap: a WeakMap's values outlive
// young collections (src/ops/exchange.ts says why that matters per request).
const BYTES = Symbol("berth.bytesBeside");
type WithBytes = Response & { [BYTES]?: Uint8Array<ArrayBuffer> };

/** A bodiless Response with `bytes` beside it; `init`'s headers name the length and type. */
export function bytesResponse(bytes: Uint8Array<ArrayBuffer>, init: ResponseInit): Response {
  const response = new Response(null, init);
  (response as WithBytes)[BYTES] = bytes;
  return response;
}

/** The bytes beside a response made by `bytesResponse`; undefined for any other response. */
export function bytesBeside(response: Response): Uint8Array<ArrayBuffer> | undefined {
  return (response as WithBytes)[BYTES];
}

/** The same response as an ordinary Response, with its bytes as the body. */
export function withBytesInside(response: Response): Response {
  const bytes = bytesBeside(response);
  if (!bytes) return response;
  return new Response(bytes, { status: response.status, statusText: response.statusText, headers: response.headers });
}
