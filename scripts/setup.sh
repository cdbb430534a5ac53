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
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm openocd dataset-fashion-mnist gcc libc6-dev cmake g++ redis-server util-linux procps)
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
