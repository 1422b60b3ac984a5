{
  "targets": [
    {
      "target_name": "ebpf_agent",
      "sources": [
        "src/addon.cc",
        "src/errors.cc",
        "src/bpf_object.cc",
        "src/attach.cc",
        "src/drain.cc",
        "src/ringbuf.cc",
        "src/test_run.cc",
        "src/netlink.cc",
        "src/links.cc",
        "src/maps.cc",
        "src/conntrack.cc",
        "src/service.cc",
        "src/bench.cc",
        "src/bench_conntrack.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "../../bpf"
      ],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-missing-field-initializers", "<!@(pkg-config --cflags libbpf)"],
      "cflags_cc!": ["-fno-exceptions"],
      "libraries": ["<!@(pkg-config --libs libbpf)"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"]
    }
  ]
}
