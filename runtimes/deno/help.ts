// Deno's --help: the shared `serve` options (runtimes/shared/cli-options.ts) plus the
// permissions to grant. Kept apart from main.ts so tests can read it without running Deno.
import { ENV_NAMES, OPTIONS_HELP } from "../shared/cli-options.ts";

export const HELP = `Usage: deno run <permissions> runtimes/deno/main.ts [serve] [options]
   or: deno task --config runtimes/deno/deno.json serve   (127.0.0.1:5000, ./data)

Run an OCI registry on Deno.serve with storage in a local folder.

${OPTIONS_HELP}
Permissions: --allow-net for the listen address, --allow-read and --allow-write for
--root (plus --allow-read for the htpasswd file). Environment variables are read only
where granted (ungranted ones count as unset); all of them:
  --allow-env=${ENV_NAMES.join(",")}
`;
