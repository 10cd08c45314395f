// src/ui/assets.ts is generated from src/ui/client by scripts/build-ui.mjs and committed (no
// build step at run time): it must match its sources, and stay small.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
// @ts-expect-error a plain .mjs script without types
import { buildUiAssets } from "../scripts/build-ui.mjs";
import { ASSETS } from "../src/ui/assets.ts";

describe("UI assets", () => {
  it("src/ui/assets.ts is what `npm run build:ui` makes of src/ui/client (run it after editing the client)", async () => {
    const committed = readFileSync(new URL("../src/ui/assets.ts", import.meta.url), "utf8");
    expect(committed === (await buildUiAssets()), "src/ui/assets.ts is stale: run npm run build:ui").toBe(true);
  });

  it("the whole UI is small: under 24 KB of JavaScript and 8 KB of CSS, before compression", () => {
    const sizeOf = (ext: string) => Object.entries(ASSETS).filter(([name]) => name.endsWith(ext)).reduce((sum, [, a]) => sum + a.body.length, 0);
    expect(sizeOf(".js")).toBeLessThan(24_000);
    expect(sizeOf(".css")).toBeLessThan(8_000);
  });
});
