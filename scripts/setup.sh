#!/usr/bin/env bash
# Installs everything rankwise needs on a fresh Debian 12 machine with Node 20; npm ci also builds dist/ (prepare).
set -euo pipefail
cd "$(dirname "$0")/.."

# onnxruntime-node's install script would download CUDA binaries; its CPU binaries ship inside the package.
export ONNXRUNTIME_NODE_INSTALL_CUDA=skip
npm ci --no-audit --no-fund
