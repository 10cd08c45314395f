import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

// Two projects: everything under test/ except end-to-end tests runs with files in parallel;
// e2e tests (heavy: real clients, real servers) run afterwards, one file at a time.
const E2E = ["test/e2e/**/*.test.ts", "test/**/*.e2e.test.ts"];

export default defineConfig({
  test: {
    // bin/berth.mjs (node target, e2e, package test) runs dist/: build it from the sources first.
    globalSetup: ["./test/build-dist.ts"],
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["test/**/*.test.ts"],
          exclude: ["**/node_modules/**", ...E2E],
          testTimeout: 30_000,
          hookTimeout: 60_000,
          sequence: { groupOrder: 0 },
          // Vitest's default is one file fewer than the cores: a single file at a time on 2 cores.
          // These files spend about half their time waiting on the servers they start, so two
          // at once keep both cores busy (2 cores: 746 s one at a time, 452 s two at a time).
          // A project's own maxWorkers wins over the command line's: BERTH_TEST_WORKERS=1 for one at a time.
          maxWorkers: Number(process.env.BERTH_TEST_WORKERS) || Math.max(2, availableParallelism() - 1),
        },
      },
      {
        extends: true,
        test: {
          name: "e2e",
          include: E2E,
          exclude: ["**/node_modules/**"],
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 300_000,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
