// The npm package as a user gets it: `npm pack`, `npm install --omit=dev <tarball>` into an
// empty folder, then the installed `berth serve` (compiled JavaScript, no tsx) takes a push
// and a pull from skopeo; `node app.mjs` imports the library with no loader; a TypeScript
// project on moduleResolution NodeNext type-checks against the installed .d.ts files.
// Needs the npm registry for the three runtime dependencies. Node only: the Deno and
// Workers runs of the e2e suite skip it (it tests no runtime but the installed Node one).
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { skipWithout, timed } from './lib/clients.ts';
import { containersEnv } from './lib/containers-env.ts';
import { expectSameImage } from './lib/layout-compare.ts';
import { randomImageLayout } from './lib/oci-layout.ts';
import { run, sh } from './lib/exec.ts';
import { peakRssKiB, startDaemon } from '../lib/daemon.ts';
import { uniqueRepo } from './lib/registry-api.ts';
import { useRegistry } from './lib/suite.ts';
import { tempDir } from './lib/tmp.ts';
import { defaultRuntime, type RunningServer } from './servers.ts';

const SUITE = 'package';
const T = 300_000;
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NAME: string = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).name;
const RUNTIME_DEPENDENCIES = ['@noble/hashes', 'aws4fetch', 'bcryptjs', 'itty-router', 'yaml'];
const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const NO_LOADER_ENV = { ...process.env, NODE_OPTIONS: '' };

let app: string; // the folder the tarball was installed into
let pack: { filename: string; files: { path: string }[] };
let installedBytes: number;

describe.skipIf(defaultRuntime() !== 'node' || skipWithout('skopeo'))('npm package', () => {
  beforeAll(async () => {
    app = tempDir('package-app');
    const packed = await timed(SUITE, 'npm pack', () =>
      run('npm', ['pack', '--json', '--pack-destination', app], { cwd: REPO_ROOT, timeoutMs: 120_000 }));
    const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as [{ filename: string; files: { path: string }[] }];
    pack = info;
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    await timed(SUITE, 'npm install --omit=dev <tarball>', () =>
      run('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', join(app, info.filename)], { cwd: app, timeoutMs: 180_000 }));
    installedBytes = Number((await sh('du -sb node_modules', { cwd: app })).stdout.split('\t')[0]);
  }, T);

  const ctx = useRegistry(SUITE, ['skopeo'], () => startInstalled(ctx.extra));

  it('npm pack ships dist/, bin/ and the README only: no sources, tests or bench', () => {
    const paths = pack.files.map((f) => f.path);
    const outside = paths.filter((p) => !/^(dist\/.+\.(js|d\.ts)|bin\/berth\.mjs|package\.json|README\.md|LICENSE)$/.test(p));
    expect(outside).toEqual([]);
    for (const needed of ['bin/berth.mjs', 'dist/runtimes/node/cli.js', 'dist/bundle/cli.js', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/runtimes/node/index.d.ts']) {
      expect(paths).toContain(needed);
    }
  });

  it('npm install --omit=dev installs the package and its runtime dependencies, nothing else', () => {
    const top = readdirSync(join(app, 'node_modules')).filter((n) => !n.startsWith('.'))
      .flatMap((n) => (n.startsWith('@') ? readdirSync(join(app, 'node_modules', n)).map((s) => `${n}/${s}`) : [n]));
    expect(top.sort()).toEqual([...RUNTIME_DEPENDENCIES, NAME].sort());
    ctx.extra['installed size (npm install --omit=dev)'] = `${(installedBytes / 1e6).toFixed(2)} MB`;
  });

  it('installed berth serve: skopeo push, then pull back byte-identical', async () => {
    const env = containersEnv('package', [ctx.server.host]);
    const repo = uniqueRepo('package');
    const img = await randomImageLayout(tempDir('layout'), 'v1', 2);
    await timed(SUITE, 'skopeo copy in', () =>
      env.skopeo(['copy', '--dest-tls-verify=false', `oci:${img.layout.dir}:v1`, `docker://${ctx.server.host}/${repo}:v1`]));
    const out = join(tempDir('out'), 'layout');
    await timed(SUITE, 'skopeo copy out', () =>
      env.skopeo(['copy', '--src-tls-verify=false', `docker://${ctx.server.host}/${repo}:v1`, `oci:${out}:v1`]));
    expect(await expectSameImage(img.layout.dir, 'v1', out, 'v1')).toBe(4); // manifest, config, 2 layers
  }, T);

  it(`node app.mjs: import { createRegistry, MemoryStore } from "${NAME}" answers GET /v2/ with 200, no loader`, async () => {
    writeFileSync(join(app, 'app.mjs'), `
import { createRegistry, MemoryStore } from ${JSON.stringify(NAME)};
const registry = createRegistry({ store: new MemoryStore() });
const response = await registry.fetch(new Request("http://localhost/v2/"));
console.log(response.status, await response.text());
`);
    const result = await run(process.execPath, ['app.mjs'], { cwd: app, env: NO_LOADER_ENV, timeoutMs: 30_000 });
    expect(result.stdout.trim()).toBe('200 {}');
  });

  it(`node app.mjs: serve({ registry }) from "${NAME}/node" serves an existing registry over a socket`, async () => {
    writeFileSync(join(app, 'serve.mjs'), `
import { createRegistry, MemoryStore } from ${JSON.stringify(NAME)};
import { serve } from ${JSON.stringify(`${NAME}/node`)};
const registry = createRegistry({ store: new MemoryStore() });
const running = await serve({ registry, host: "127.0.0.1", port: 0 });
const response = await fetch(running.url + "/v2/");
console.log(response.status, response.headers.get("docker-distribution-api-version"));
await running.close();
`);
    const result = await run(process.execPath, ['serve.mjs'], { cwd: app, env: NO_LOADER_ENV, timeoutMs: 30_000 });
    expect(result.stdout.trim()).toBe('200 registry/2.0');
  });

  it('a TypeScript project on moduleResolution NodeNext type-checks against the installed .d.ts (and its errors are real)', async () => {
    const dir = join(app, 'ts');
    mkdirSync(dir);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true,
        skipLibCheck: false, types: ['node'], typeRoots: [join(REPO_ROOT, 'node_modules/@types')],
      },
      files: ['main.ts'],
    }));
    const main = (extra: string) => `
import { createRegistry, MemoryStore, RegistryError, type Registry, type BlobStore } from ${JSON.stringify(NAME)};
import { FsStore, createNodeHasher, serve, toRequestListener, type RunningServer } from ${JSON.stringify(`${NAME}/node`)};
const store: BlobStore = new FsStore("./data");
const registry: Registry = createRegistry({ store, hasher: createNodeHasher });
const memory: Registry = createRegistry({ store: new MemoryStore() });
const running: Promise<RunningServer> = serve({ registry: memory, host: "127.0.0.1", port: 0 });
const listener = toRequestListener((request) => registry.fetch(request));
void running; void listener; void RegistryError;
${extra}
`;
    const tsc = () => run(process.execPath, [TSC, '-p', 'tsconfig.json'], { cwd: dir, allowFail: true, timeoutMs: 120_000 });
    writeFileSync(join(dir, 'main.ts'), main(''));
    const ok = await timed(SUITE, 'tsc NodeNext project', tsc);
    expect(ok.stdout + ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    writeFileSync(join(dir, 'main.ts'), main('const wrong: number = registry.fetch;'));
    const bad = await tsc();
    expect(bad.code).toBe(2);
    expect(bad.stdout).toMatch(/main\.ts\(\d+,\d+\): error TS2322: Type '\(request: Request, info\?: ExchangeInfo \| undefined\) => Promise<Response>' is not assignable to type 'number'/);
  }, T);
});

/** The installed bin, by its pid: `node_modules/.bin/berth serve --port 0`, timed to its first answer. */
async function startInstalled(extra: Record<string, string>): Promise<RunningServer> {
  const root = tempDir('package-root');
  const started = performance.now();
  const d = startDaemon(join(app, 'node_modules/.bin/berth'), ['serve', '--root', root, '--host', '127.0.0.1', '--port', '0', '--quiet'], { env: NO_LOADER_ENV });
  try {
    const url = (await d.waitForLine(/berth listening on (http:\/\/127\.0\.0\.1:\d+)/, 30_000))[1]!;
    const first = await fetch(`${url}/v2/`);
    await first.arrayBuffer();
    extra['spawn to first answer (installed berth serve)'] = `${(performance.now() - started).toFixed(0)} ms`;
    expect(first.status).toBe(200);
    return {
      url, host: new URL(url).host, pid: d.pid, runtime: 'node (installed package)', logs: d.logs,
      peakRssKiB: () => peakRssKiB(d.pid),
      stop: () => d.stop(),
    };
  } catch (error) {
    await d.stop();
    throw error;
  }
}
