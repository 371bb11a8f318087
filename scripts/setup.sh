#!/usr/bin/env bash
# Installs everything rankwise needs on a fresh Debian 12 machine with Node 20: Debian's libtorch for the training
# engine, the npm packages (npm ci also builds dist/ through `prepare`), then the native addon.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! dpkg -s libtorch-dev libopenblas0-pthread >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libtorch-dev libopenblas0-pthread
fi

# onnxruntime-node's install script would download CUDA binaries; its CPU binaries ship inside the package.
export ONNXRUNTIME_NODE_INSTALL_CUDA=skip
npm ci --no-audit --no-fund
npm run build:native
