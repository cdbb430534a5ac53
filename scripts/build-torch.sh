#!/usr/bin/env bash
# Builds the libtorch training addon (native/torch -> native/torch/build/Release/tinyforge_torch.node)
# with the node-gyp that npm bundles, against the system Node headers (--nodedir=/usr: no download).
# Needs libtorch-dev and a C++ compiler; scripts/setup.sh installs them. Exit status 1 on failure.
set -euo pipefail
cd "$(dirname "$0")/../native/torch"
gyp="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
[ -f "$gyp" ] || gyp="$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js"
# Each translation unit includes libtorch's headers (~1 min of compiling each): use every core.
JOBS="$(nproc)" node "$gyp" rebuild --nodedir=/usr --jobs "$(nproc)"
