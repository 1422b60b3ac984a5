// SPDX-License-Identifier: Apache-2.0
// Benchmark helpers. They run synchronously on the JS thread on purpose: the
// benchmark times them and nothing else runs meanwhile.
#include "bench.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <arpa/inet.h>
#include <linux/bpf.h>
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "errors.h"
#include "flows.h"
#include "pair_fold.h"

namespace ebpf_agent {
namespace {

std::vector<bpf_object*> g_objects;

int FdArg(const Napi::Value& v) { return v.As<Napi::Number>().Int32Value(); }

// benchLoadObject(path) -> {programs: {name: fd}, maps: {name: fd}}; stays
// loaded until benchCloseObjects().
Napi::Value LoadObject(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>();
  bpf_object* obj = bpf_object__open_file(path.c_str(), nullptr);
  if (!obj) throw ErrnoError(env, errno, "opening BPF object " + path);
  int err = bpf_object__load(obj);
  if (err) {
    bpf_object__close(obj);
    throw ErrnoError(env, err, "loading BPF object " + path);
  }
  g_objects.push_back(obj);
  Napi::Object progs = Napi::Object::New(env);
  bpf_program* p;
  bpf_object__for_each_program(p, obj) progs.Set(bpf_program__name(p), bpf_program__fd(p));
  Napi::Object maps = Napi::Object::New(env);
  bpf_map* m;
  bpf_object__for_each_map(m, obj) maps.Set(bpf_map__name(m), bpf_map__fd(m));
  Napi::Object out = Napi::Object::New(env);
  out.Set("programs", progs);
  out.Set("maps", maps);
  return out;
}

Napi::Value CloseObjects(const Napi::CallbackInfo& info) {
  for (bpf_object* obj : g_objects) bpf_object__close(obj);
  g_objects.clear();
  return info.Env().Undefined();
}

// benchFdById('prog' | 'map', id) -> a new fd (close it with closeFd).
Napi::Value FdById(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string kind = info[0].As<Napi::String>();
  uint32_t id = info[1].As<Napi::Number>().Uint32Value();
  int fd = kind == "prog" ? bpf_prog_get_fd_by_id(id) : bpf_map_get_fd_by_id(id);
  if (fd < 0) throw ErrnoError(env, errno, "opening " + kind + " id " + std::to_string(id));
  return Napi::Number::New(env, fd);
}

// benchObjGet(pinnedPath) -> fd.
Napi::Value ObjGet(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>();
  int fd = bpf_obj_get(path.c_str());
  if (fd < 0) throw ErrnoError(env, errno, "opening pinned " + path);
  return Napi::Number::New(env, fd);
}

// benchTestRun(progFd, packet, repeat) -> {retval, durationNs}: the same
// BPF_PROG_TEST_RUN as BpfObject.testRun, for programs of other objects.
Napi::Value TestRun(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info[0]);
  Napi::Buffer<uint8_t> packet = info[1].As<Napi::Buffer<uint8_t>>();
  int repeat = info[2].As<Napi::Number>().Int32Value();
  __sk_buff ctx;
  std::memset(&ctx, 0, sizeof(ctx));
  LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = packet.Data(), .data_size_in = static_cast<uint32_t>(packet.Length()),
              .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = repeat);
  if (bpf_prog_test_run_opts(fd, &run)) throw ErrnoError(env, errno, "test-running prog fd " + std::to_string(fd));
  Napi::Object out = Napi::Object::New(env);
  out.Set("retval", static_cast<int32_t>(run.retval));
  out.Set("durationNs", run.duration);
  return out;
}

// benchTestRunParallel(progFd, packet, repeat, cpus) -> durationNs[]: the same
// test run on one thread per CPU in cpus, started together, so the threads
// hit the same flow entry at once (a pod's threads on several cores).
Napi::Value TestRunParallel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info[0]);
  Napi::Buffer<uint8_t> packet = info[1].As<Napi::Buffer<uint8_t>>();
  int repeat = info[2].As<Napi::Number>().Int32Value();
  Napi::Array cpus = info[3].As<Napi::Array>();
  const size_t n = cpus.Length();
  std::vector<int> cpu(n);
  for (size_t i = 0; i < n; i++) cpu[i] = cpus.Get(i).As<Napi::Number>().Int32Value();
  std::vector<uint32_t> durations(n, 0);
  std::vector<int> errors(n, 0);
  std::atomic<size_t> ready{0};
  std::vector<std::thread> threads;
  for (size_t i = 0; i < n; i++) {
    threads.emplace_back([&, i] {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(cpu[i], &set);
      if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set)) errors[i] = EINVAL;
      __sk_buff ctx;
      std::memset(&ctx, 0, sizeof(ctx));
      LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = packet.Data(), .data_size_in = static_cast<uint32_t>(packet.Length()),
                  .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = repeat);
      ready++;
      while (ready.load() < n) {
      }
      if (!errors[i] && bpf_prog_test_run_opts(fd, &run)) errors[i] = errno;
      durations[i] = run.duration;
    });
  }
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < n; i++)
    if (errors[i]) throw ErrnoError(env, errors[i], "test-running prog fd " + std::to_string(fd) + " on CPU " + std::to_string(cpu[i]));
  Napi::Array out = Napi::Array::New(env, n);
  for (size_t i = 0; i < n; i++) out.Set(i, durations[i]);
  return out;
}

// Connection i of a synthetic node: pairs of connectionsPerPair connections
// (distinct ports); a pair's source is one of 100 pod addresses, as egress
// from one node's pods is, and its destination is distinct per pair.
void SyntheticFlow(uint32_t i, uint32_t per_pair, bool v6, flow_key& k, flow_stats& s) {
  std::memset(&k, 0, sizeof(k));
  uint32_t pair = i / per_pair;
  k.family = v6 ? FLOW_FAMILY_IPV6 : FLOW_FAMILY_IPV4;
  k.protocol = (pair & 1) ? 17 : 6;
  k.src_port = htons(static_cast<uint16_t>(10000 + (i % per_pair) % 50000));
  k.dst_port = htons(static_cast<uint16_t>(80 + (i % per_pair) / 50000));
  uint8_t* src = k.src_addr;
  uint8_t* dst = k.dst_addr;
  if (v6) {
    src[0] = dst[0] = 0xfd;
    dst[1] = 1;
    src += 12;
    dst += 12;
  }
  uint32_t pod = pair % 100, peer = pair / 100;
  src[0] = 10;
  src[1] = 244;
  src[2] = 0;
  src[3] = static_cast<uint8_t>(pod + 1);
  dst[0] = 10;
  dst[1] = static_cast<uint8_t>(100 + (peer >> 16));
  dst[2] = static_cast<uint8_t>(peer >> 8);
  dst[3] = static_cast<uint8_t>(peer);
  s.bytes = 1000 + i % 9000;
  s.packets = 1 + i % 7;
  s.first_seen_ns = 1'000'000'000ull + i;
  s.last_seen_ns = 2'000'000'000ull + i;
}

// benchFillFlows(mapFd, {count, connectionsPerPair, ipv6}) -> {flows, bytes, packets}
// bulk-inserts synthetic flow_key -> flow_stats entries (bpf_map_update_batch).
Napi::Value FillFlows(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info[0]);
  Napi::Object o = info[1].As<Napi::Object>();
  uint32_t count = o.Get("count").As<Napi::Number>().Uint32Value();
  uint32_t per_pair = o.Get("connectionsPerPair").As<Napi::Number>().Uint32Value();
  bool v6 = o.Get("ipv6").ToBoolean();
  if (per_pair == 0) per_pair = 1;
  constexpr uint32_t kChunk = 8192;
  std::vector<flow_key> keys(kChunk);
  std::vector<flow_stats> values(kChunk);
  double bytes = 0, packets = 0;
  for (uint32_t start = 0; start < count; start += kChunk) {
    uint32_t n = std::min(kChunk, count - start);
    for (uint32_t j = 0; j < n; j++) {
      SyntheticFlow(start + j, per_pair, v6, keys[j], values[j]);
      bytes += values[j].bytes;
      packets += values[j].packets;
    }
    LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = BPF_ANY);
    uint32_t done = n;
    if (bpf_map_update_batch(fd, keys.data(), values.data(), &done, &opts))
      throw ErrnoError(env, errno, "filling flow map (" + std::to_string(start + done) + " of " + std::to_string(count) + ")");
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("flows", count);
  out.Set("bytes", bytes);
  out.Set("packets", packets);
  return out;
}

// benchDrainFloor(mapFd) -> {flows, pairs, bytes, packets, seconds}: the least
// a drain can do, in C: batch lookup-and-delete of every entry and sums per
// (family, protocol, src, dst). No slot flip, no copy to JS.
Napi::Value DrainFloor(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info[0]);
  auto started = std::chrono::steady_clock::now();
  uint32_t chunk = 4096;
  std::vector<flow_key> keys;
  std::vector<flow_stats> values;
  PairFolder pairs(1024);
  flow_key out_batch{};
  bool first = true;
  double flows = 0, bytes = 0, packets = 0;
  for (;;) {
    keys.resize(chunk);
    values.resize(chunk);
    uint32_t count = chunk;
    LIBBPF_OPTS(bpf_map_batch_opts, opts);
    int err = bpf_map_lookup_and_delete_batch(fd, first ? nullptr : &out_batch, &out_batch, keys.data(), values.data(),
                                              &count, &opts);
    int e = err ? errno : 0;
    for (uint32_t i = 0; i < count; i++) {
      pairs.Add(keys[i], values[i].bytes, values[i].packets);
      bytes += values[i].bytes;
      packets += values[i].packets;
    }
    flows += count;
    if (!err) {
      first = false;
      continue;
    }
    if (e == ENOENT) break;
    if (e == ENOSPC && count == 0) {
      chunk *= 2;
      continue;
    }
    throw ErrnoError(env, e, "draining map fd " + std::to_string(fd));
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  Napi::Object out = Napi::Object::New(env);
  out.Set("flows", flows);
  out.Set("pairs", static_cast<double>(pairs.size()));
  out.Set("bytes", bytes);
  out.Set("packets", packets);
  out.Set("seconds", seconds);
  return out;
}

}  // namespace

void BenchSyntheticFlow(uint32_t i, uint32_t per_pair, bool v6, flow_key& k, flow_stats& s) {
  SyntheticFlow(i, per_pair, v6, k, s);
}
Napi::Value BenchFillConntrack(const Napi::CallbackInfo& info);  // bench_conntrack.cc

void InitBench(Napi::Env env, Napi::Object exports) {
  exports.Set("benchFillConntrack", Napi::Function::New(env, BenchFillConntrack));
  exports.Set("benchLoadObject", Napi::Function::New(env, LoadObject));
  exports.Set("benchCloseObjects", Napi::Function::New(env, CloseObjects));
  exports.Set("benchFdById", Napi::Function::New(env, FdById));
  exports.Set("benchObjGet", Napi::Function::New(env, ObjGet));
  exports.Set("benchTestRun", Napi::Function::New(env, TestRun));
  exports.Set("benchTestRunParallel", Napi::Function::New(env, TestRunParallel));
  exports.Set("benchFillFlows", Napi::Function::New(env, FillFlows));
  exports.Set("benchDrainFloor", Napi::Function::New(env, DrainFloor));
}

}  // namespace ebpf_agent
