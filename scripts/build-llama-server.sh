#!/usr/bin/env bash
# Builds llama.cpp's OpenAI-compatible `llama-server` from the source node-llama-cpp ships (a git bundle, MIT), once,
# into a cache folder outside the repository; later runs reuse it. Prints the binary's path on stdout.
# Used by the tests of the OpenAI-compatible LLM provider; takes about 16 minutes on 2 cores the first time.
set -euo pipefail
cd "$(dirname "$0")/.."

bundle=node_modules/node-llama-cpp/llama/gitRelease.bundle
tag=$(node -p "require('./node_modules/node-llama-cpp/llama/llama.cpp.info.json').tag")
cache=${RANKWISE_CACHE:-$HOME/.cache/rankwise}/llama-server/$tag
binary=$cache/bin/llama-server

if [ -x "$binary" ]; then echo "$binary"; exit 0; fi
[ -f "$bundle" ] || { echo "build-llama-server: $bundle is missing (run npm ci first)" >&2; exit 1; }
command -v cmake >/dev/null || { echo "build-llama-server: cmake is needed (apt-get install cmake)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone -q "$bundle" "$work/src" >&2
cmake -S "$work/src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
  -DBUILD_SHARED_LIBS=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_CURL=OFF -DGGML_NATIVE=OFF >&2
cmake --build "$work/build" --target llama-server -j "$(nproc)" >&2
# Build in a scratch folder and move into place last, so an interrupted build never leaves a half binary in the cache.
mkdir -p "$cache/bin"
cp "$work/build/bin/llama-server" "$binary.tmp"
mv "$binary.tmp" "$binary"
echo "$binary"
