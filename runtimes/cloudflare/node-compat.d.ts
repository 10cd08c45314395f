// The few node:* modules the Worker uses through nodejs_compat. Declared here because
// @types/node's globals clash with Workers' (Request, ReadableStream, ...).
declare module "node:crypto" {
  interface Hash {
    update(data: Uint8Array | string): Hash;
    copy(): Hash;
    digest(encoding: "hex"): string;
  }
  export function createHash(algorithm: string): Hash;
}

declare module "node:async_hooks" {
  export class AsyncLocalStorage<T> {
    run<R>(store: T, callback: () => R): R;
    getStore(): T | undefined;
  }
}
