// Node library entry: everything in src/ plus the Node pieces for embedding Berth.
export * from "../../src/index.ts";
export { FsStore } from "./fs-store.ts";
export { createNodeCryptoHasher as createNodeHasher } from "../shared/node-crypto-hasher.ts";
export { toRequestListener } from "../shared/http-adapter.ts";
export { serve, type ServeOptions, type RunningServer } from "./server.ts";
