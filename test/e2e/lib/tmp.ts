// Temp dirs for servers and client state; removed at the end unless BERTH_E2E_KEEP=1.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const created: string[] = [];

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(process.env.BERTH_E2E_TMP ?? tmpdir(), `berth-e2e-${prefix}-`));
  created.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  if (process.env.BERTH_E2E_KEEP === '1') {
    if (created.length) console.log(`[e2e] kept temp dirs: ${created.join(' ')}`);
    return;
  }
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
}
