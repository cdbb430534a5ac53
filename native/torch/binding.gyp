# The libtorch training addon (see README.md here). Built by scripts/build-torch.sh with node-gyp
# against the system Node headers and Debian's libtorch (libtorch-dev).
{
  "targets": [{
    "target_name": "tinyforge_torch",
    "sources": [
      "src/addon.cc",
      "src/allocator.cc",
      "src/convert.cc",
      "src/layers.cc",
      "src/network.cc",
      "src/optimizer.cc",
      "src/train_step.cc",
      "src/weights.cc"
    ],
    "include_dirs": [
      "<!(node -p \"require('node-addon-api').include_dir\")",
      "/usr/include/torch/csrc/api/include"
    ],
    "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
    "cflags!": ["-fno-exceptions"],
    "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17"],
    "cflags_cc": ["-std=c++17", "-fexceptions", "-frtti", "-O2", "-Wno-unused-parameter"],
    "libraries": ["-ltorch", "-ltorch_cpu", "-lc10"]
  }]
}
