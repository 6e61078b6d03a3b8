#!/usr/bin/env bash
# Builds the library's src/ at each given commit into .ab/<commit>/out, compiled against
# this checkout's node_modules (one copy of effect for every build), for bench/ab/ab.js.
#
#   bash bench/ab/build.sh f3000e3 5761d3c ...
#
# Prints each build's directory. The sources come from git (git archive), not
# from a checkout, so this needs no worktree and leaves the work tree alone.
set -euo pipefail
root=$(git rev-parse --show-toplevel)
cd "$root"
for rev in "$@"; do
  sha=$(git rev-parse --short=7 "$rev^{commit}")
  dir=".ab/$sha"
  if [ ! -f "$dir/out/node.js" ]; then
    rm -rf "$dir"
    mkdir -p "$dir"
    git archive "$sha" src | tar -x -C "$dir"
    cat >"$dir/tsconfig.json" <<JSON
{
  "extends": "../../tsconfig.json",
  "compilerOptions": {
    "rootDir": "src",
    "outDir": "out",
    "noEmit": false,
    "declaration": false,
    "declarationMap": false,
    "sourceMap": true,
    "noUnusedLocals": false,
    "noUnusedParameters": false
  },
  "include": ["src"]
}
JSON
    # Old sources may not type-check against today's settings: emit regardless.
    node_modules/.bin/tsc -p "$dir/tsconfig.json" >"$dir/tsc.log" 2>&1 || true
    [ -f "$dir/out/node.js" ] || { echo "build of $sha failed: see $dir/tsc.log" >&2; exit 1; }
  fi
  echo "$dir/out"
done
