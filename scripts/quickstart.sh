#!/usr/bin/env bash
# The quick start from a fresh clone, with nothing but Node 20 and npm: installs rankwise's core (the `dependencies`
# of package.json: onnxruntime-node, tokenizers, stemmer, commander; about 320 MB, almost all of it onnxruntime-node's
# prebuilt CPU binaries), then runs `rankwise demo` (extra arguments are passed on, e.g. --json). No apt packages,
# no compiler, no libtorch, no training: the built-in reranker's weights ship in models/default/.
# `bash scripts/setup.sh` installs the rest (the optional peers as devDependencies, libtorch, the test servers).
set -euo pipefail
cd "$(dirname "$0")/.."

# --omit=dev: the optional peers (LanceDB, node-llama-cpp's CUDA builds, hnswlib-node and better-sqlite3, which
# compile) are devDependencies, about 2 GB that the demo does not use. --ignore-scripts: the root `prepare` script compiles
# dist/ with TypeScript, a devDependency; onnxruntime-node's install script only fetches CUDA binaries (its CPU
# binaries ship in the package).
export ONNXRUNTIME_NODE_INSTALL_CUDA=skip
# Installed already (a second run, or after setup.sh): `npm ls` fails when a core package is missing or does not match.
if ! npm ls --omit=dev --depth=0 >/dev/null 2>&1; then
  npm ci --omit=dev --ignore-scripts --no-audit --no-fund >&2  # stdout is the demo's (--json stays parseable)
fi

# No dist/ without TypeScript, so the CLI runs from source through tsx, at the version package.json pins for it.
# tsx goes to npx's cache rather than node_modules: installing one devDependency alone would install them all.
tsx_version=$(node -p "require('./package.json').devDependencies.tsx")
# glibc hands fresh memory to the model faster with transparent huge pages (what bin/rankwise.js sets for itself).
export GLIBC_TUNABLES=${GLIBC_TUNABLES:-glibc.malloc.hugetlb=1}
exec npx --yes --package="tsx@${tsx_version}" -- tsx src/cli/main.ts demo "$@"
