{
  "variables": {
    "agent_sources": [
      "src/addon.cc",
      "src/errors.cc",
      "src/bpf_object.cc",
      "src/attach.cc",
      "src/ringbuf.cc",
      "src/netlink.cc",
      "src/links.cc",
      "src/maps.cc",
      "src/memory.cc",
      "src/conntrack.cc",
      "src/service.cc",
      "src/slots.cc"
    ]
  },
  "target_defaults": {
    "include_dirs": [
      "<!(node -p \"require('node-addon-api').include_dir\")",
      "../../bpf"
    ],
    "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-missing-field-initializers", "<!@(pkg-config --cflags libbpf)"],
    "cflags_cc!": ["-fno-exceptions"],
    "libraries": ["<!@(pkg-config --libs libbpf)"],
    "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"]
  },
  "targets": [
    {
      "target_name": "ebpf_agent",
      "sources": ["<@(agent_sources)"]
    },
    {
      "target_name": "kubeadapt_testing",
      "sources": ["<@(agent_sources)", "src/testing.cc", "src/drain.cc", "src/test_run.cc", "src/bench.cc", "src/bench_conntrack.cc"],
      "defines": ["KUBEADAPT_TESTING"]
    }
  ]
}
