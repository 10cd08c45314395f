// Private state for skopeo, podman and buildah: one temp dir holding a vfs
// storage.conf, registries.conf (the registry marked insecure), containers.conf,
// an auth file and a skopeo policy. Two envs = two independent local stores.
//
// Blob-info cache: containers/image 5.23 (skopeo 1.9, podman 4.3, buildah 1.28)
// has no setting for its location (no blob_info_cache_directory, no env var; the
// binaries only know the SystemContext field). As root all three use
// /var/lib/containers/cache/blob-info-cache-v1.boltdb (seen in --debug: "Using
// blob info cache at ..."). So when `unshare --mount` works (root) every command
// runs in a private mount namespace with <dir>/cache bind-mounted over that path:
// one cache per env, nothing shared between runs. Without unshare the system
// cache is shared; tests still use fresh random layers so uploads really happen.
import { execFileSync } from 'node:child_process';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { run, type RunOptions, type RunResult } from './exec.ts';
import { tempDir } from './tmp.ts';

export interface ContainersEnv {
  dir: string;
  env: NodeJS.ProcessEnv;
  policy: string;
  authFile: string;
  skopeo(args: string[], opts?: RunOptions): Promise<RunResult>;
  podman(args: string[], opts?: RunOptions): Promise<RunResult>;
  buildah(args: string[], opts?: RunOptions): Promise<RunResult>;
}

export function containersEnv(name: string, registryHosts: string[]): ContainersEnv {
  const dir = tempDir(`ctr-${name}`);
  for (const sub of ['graph', 'run', 'tmp', 'home', 'cache']) mkdirSync(join(dir, sub), { recursive: true });
  const storageConf = join(dir, 'storage.conf');
  writeFileSync(storageConf, `[storage]
driver = "vfs"
graphroot = "${join(dir, 'graph')}"
runroot = "${join(dir, 'run')}"
`);
  const registriesConf = join(dir, 'registries.conf');
  writeFileSync(registriesConf, 'unqualified-search-registries = []\nshort-name-mode = "disabled"\n' +
    registryHosts.map((h) => `\n[[registry]]\nlocation = "${h}"\ninsecure = true\n`).join(''));
  const containersConf = join(dir, 'containers.conf');
  writeFileSync(containersConf, `[engine]
tmp_dir = "${join(dir, 'tmp')}"
events_logger = "none"
cgroup_manager = "cgroupfs"
`);
  const authFile = join(dir, 'auth.json');
  writeFileSync(authFile, '{}');
  const policy = join(dir, 'policy.json');
  writeFileSync(policy, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CONTAINERS_STORAGE_CONF: storageConf,
    CONTAINERS_REGISTRIES_CONF: registriesConf,
    CONTAINERS_CONF: containersConf,
    REGISTRY_AUTH_FILE: authFile,
    TMPDIR: join(dir, 'tmp'),
    XDG_RUNTIME_DIR: join(dir, 'run'),
    XDG_CONFIG_HOME: join(dir, 'home'),
    HOME: join(dir, 'home'),
  };
  const storageFlags = ['--root', join(dir, 'graph'), '--runroot', join(dir, 'run'), '--storage-driver', 'vfs'];
  const cache = join(dir, 'cache');
  const exec = (cmd: string, args: string[], opts?: RunOptions) => privateBlobCache()
    ? run('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', BIND_AND_EXEC, cache, cmd, ...args], { env, ...opts })
    : run(cmd, args, { env, ...opts });
  return {
    dir, env, policy, authFile,
    skopeo: (args, opts) => exec('skopeo', ['--policy', policy, ...args], opts),
    podman: (args, opts) => exec('podman', [...storageFlags, ...args], opts),
    buildah: (args, opts) => exec('buildah', [...storageFlags, ...args], opts),
  };
}

const SYSTEM_CACHE = '/var/lib/containers/cache';
const BIND_AND_EXEC = `mkdir -p ${SYSTEM_CACHE} && mount --bind "$0" ${SYSTEM_CACHE} && exec "$@"`;
let privateCache: boolean | undefined;

/** True when each env gets its own blob-info cache (unshare + bind mount work). */
export function privateBlobCache(): boolean {
  if (privateCache === undefined) {
    try {
      execFileSync('unshare', ['--mount', '--propagation', 'private', '--', 'true'], { stdio: 'ignore' });
      privateCache = process.env.BERTH_E2E_SHARED_BLOB_CACHE !== '1';
    } catch { privateCache = false; }
    if (!privateCache) console.warn(`[e2e] note: containers tools share the blob-info cache in ${SYSTEM_CACHE}`);
  }
  return privateCache;
}
