import { MemoryStore } from "../../src/storage/memory.ts";
import { describeBlobStoreContract } from "./contract.ts";

describeBlobStoreContract("MemoryStore", async () => ({ store: new MemoryStore(), cleanup: async () => {} }));
