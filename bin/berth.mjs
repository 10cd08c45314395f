#!/usr/bin/env node
// The `berth` command. Berth ships TypeScript sources; tsx compiles them on load.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../runtimes/node/cli.ts");
main(process.argv.slice(2)).catch((error) => {
  console.error(`berth: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
});
