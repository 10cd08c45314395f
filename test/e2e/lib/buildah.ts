// Offline image builds with buildah (from scratch + copy + config + commit).
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainersEnv } from './containers-env.ts';
import { tempDir } from './tmp.ts';

/** buildah from scratch + copy + config + commit of a random payload; returns the local name. */
export async function buildScratchImage(c: ContainersEnv, name: string, arch = 'amd64', bytes = 256 * 1024): Promise<string> {
  const payload = join(tempDir('payload'), 'payload.bin');
  writeFileSync(payload, randomBytes(bytes));
  const ctr = (await c.buildah(['from', '--arch', arch, 'scratch'])).stdout.trim();
  await c.buildah(['copy', ctr, payload, '/payload.bin']);
  await c.buildah(['config', '--arch', arch, '--os', 'linux', '--label', `berth.e2e=${randomBytes(8).toString('hex')}`,
    '--entrypoint', '["/payload.bin"]', ctr]);
  const image = `localhost/${name}:latest`;
  await c.buildah(['commit', '--quiet', ctr, image]);
  await c.buildah(['rm', ctr]);
  return image;
}
