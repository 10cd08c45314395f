// Shared beforeAll/afterAll for a client suite: check the clients, start (or
// reuse) the registry, and print versions, wall times and server peak RSS.
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { sharedServer, type RunningServer } from '../servers.ts';
import { assertClients, hasClients, printSummary } from './clients.ts';
import { RegistryApi } from './registry-api.ts';
import { removeTempDirs } from './tmp.ts';

export interface SuiteContext {
  server: RunningServer;
  api: RegistryApi;
  extra: Record<string, string>;
}

export function formatKiB(kib: number | undefined): string {
  return kib === undefined ? 'unknown' : `${(kib / 1024).toFixed(1)} MiB`;
}

export function useRegistry(suite: string, bins: string[], start: () => Promise<RunningServer> = sharedServer): SuiteContext {
  const ctx = { extra: {} } as SuiteContext;
  beforeAll(async () => {
    if (!hasClients(...bins)) return; // REQUIRE_CLIENTS=1: each test fails in beforeEach
    ctx.server = await start();
    ctx.api = new RegistryApi(ctx.server.url);
  }, 120_000);
  beforeEach(() => assertClients(...bins));
  afterAll(async () => {
    if (ctx.server) ctx.extra['server peak RSS (VmHWM)'] ??= formatKiB(ctx.server.peakRssKiB());
    await printSummary(suite, bins, ctx.extra);
    if (process.env.BERTH_E2E_SERVER_LOG === '1' && ctx.server) console.log(ctx.server.logs.join('\n'));
    await ctx.server?.stop();
    removeTempDirs();
  }, 120_000);
  return ctx;
}
