#!/usr/bin/env bash
# Installs everything rankwise needs on a fresh Debian 12 machine with Node 20: Debian's libtorch for the training
# engine, the servers the tests start on loopback (Redis, PostgreSQL, nginx), the npm packages (npm ci also builds
# dist/ through `prepare`) and the native addon. The built-in reranker ships in the package (models/default): nothing
# here trains it. llama.cpp's server, which only the LLM provider's tests need, is built by `npm test` itself
# (pretest) when it is not in the cache yet.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(libtorch-dev libopenblas0-pthread redis-server postgresql nginx cmake)
if ! dpkg -s "${apt_packages[@]}" >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${apt_packages[@]}"
fi

# onnxruntime-node's install script would download CUDA binaries; its CPU binaries ship inside the package.
export ONNXRUNTIME_NODE_INSTALL_CUDA=skip
npm ci --no-audit --no-fund
npm run build:native
