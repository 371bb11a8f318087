{
  "targets": [
    {
      "target_name": "rankwise_torch",
      "sources": ["src/addon.cpp", "src/allocator.cpp", "src/bert.cpp", "src/losses.cpp", "src/use_lite.cpp"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "/usr/include/torch/csrc/api/include",
        "/usr/include"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      # node-gyp's common.gypi turns C++ exceptions and RTTI off; libtorch needs both.
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=c++17", "-std=gnu++20"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-frtti", "-O2", "-Wno-unused-parameter", "-Wno-deprecated-declarations"],
      "libraries": ["-ltorch", "-ltorch_cpu", "-lc10", "-ldl"]
    }
  ]
}
