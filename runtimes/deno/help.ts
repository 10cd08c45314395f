// The first lines of Deno's --help (the options come from src/config): how to run it and
// the permissions to grant. Kept apart from main.ts so tests can read it without running Deno.
export const USAGE = `Usage: deno run --v8-flags=--expose-gc <permissions> runtimes/deno/main.ts [serve] [options]
   or: deno task --config runtimes/deno/deno.json serve   (127.0.0.1:5000, ./data)

Berth, an OCI registry, on Deno's node:http with storage in a local folder.

Permissions: --allow-net for the listen address, --allow-read and --allow-write for
--root (plus --allow-read for the htpasswd, policy and config files), and
--allow-env=BERTH_*,LOG_TOKENS,LOG_STREAM (variables not granted count as unset;
the yaml package reads LOG_TOKENS and LOG_STREAM whenever it parses YAML). With
--s3-bucket: also --allow-net for the S3 endpoint and
--allow-env=AWS_ACCESS_KEY_ID,AWS_SECRET_ACCESS_KEY.`;
