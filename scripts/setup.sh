#!/usr/bin/env bash
# Installs everything tinyforge needs on a Debian machine, then its npm dependencies, and builds it.
# Safe to rerun: packages already present are skipped. Run as root (or with sudo available).
#   gcc-arm-none-eabi, libnewlib-arm-none-eabi  the Cortex-M compiler and C library (semihosting)
#   qemu-system-arm                             runs the firmware on emulated boards
#   openocd                                     flashes real boards (`tinyforge flash`)
#   dataset-fashion-mnist                       the Fashion-MNIST IDX files
#   gcc, libc6-dev                              host compiler for the sanitizer tests of the generated C
#   cmake, g++                                  the package-form tests (CMake package, Arduino sketch as C++)
#   util-linux, procps                          setpriv (QEMU dies with tinyforge), pgrep (the orphan tests)
#   redis-server                                the job queue of distributed sweeps (`sweep --queue`, `worker`); tests start their own
#   libtorch-dev, libopenblas0-pthread, g++     the native training backend (native/torch), unless
#                                               TINYFORGE_NO_TORCH=1 (then training runs on wasm)
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm openocd dataset-fashion-mnist gcc libc6-dev cmake g++ redis-server util-linux procps)
with_torch=1
[ "${TINYFORGE_NO_TORCH:-0}" = "1" ] && with_torch=0
((with_torch)) && packages+=(libtorch-dev libopenblas0-pthread g++ make)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# @tensorflow/tfjs-node is optional: its install downloads libtensorflow, which fails without
# internet access; npm then skips it and tinyforge trains on the wasm backend instead.
npm ci --no-audit --no-fund
npm run build

# The libtorch training addon: about 8 minutes of compiling on 2 busy cores (2 minutes of CPU),
# skipped when already built from the same sources. A failed build is not fatal: training then
# runs on wasm (tinyforge says so in one line).
if ((with_torch)); then
  addon=native/torch/build/Release/tinyforge_torch.node
  if [ -f "$addon" ] && [ -z "$(find native/torch/src native/torch/binding.gyp -newer "$addon")" ]; then
    echo "setup: libtorch addon up to date ($addon)"
  elif bash scripts/build-torch.sh > native/torch/build.log 2>&1; then
    echo "setup: built the libtorch addon ($addon)"
  else
    echo "setup: the libtorch addon did not build (see native/torch/build.log); training will use wasm" >&2
  fi
else
  echo "setup: TINYFORGE_NO_TORCH=1: libtorch addon skipped; training will use wasm"
fi
