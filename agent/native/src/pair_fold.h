// SPDX-License-Identifier: Apache-2.0
// Per-pair sums of a flow map's connections: an open-addressing table over
// the packed pair_key (bpf/flows.h). readPairs folds a drained slot with it
// and the bench's C floor too, so the two are compared like for like. A
// std::unordered_map keyed by std::string allocated a key per pair and hashed
// byte by byte: the fold was a third of the drain (bench/ drain).
#ifndef EBPF_AGENT_PAIR_FOLD_H
#define EBPF_AGENT_PAIR_FOLD_H

#include <cstdint>
#include <cstring>
#include <vector>

#include "flows.h"

namespace ebpf_agent {

struct PairSums {
  uint64_t bytes = 0;
  uint64_t packets = 0;
  uint32_t connections = 0;
};

class PairFolder {
 public:
  explicit PairFolder(size_t expected) { Resize(Capacity(expected)); }

  void Add(const flow_key& k, uint64_t bytes, uint64_t packets) {
    pair_key pk;
    std::memset(&pk, 0, sizeof(pk));
    pk.family = k.family;
    pk.protocol = k.protocol;
    std::memcpy(pk.src_addr, k.src_addr, 16);
    std::memcpy(pk.dst_addr, k.dst_addr, 16);
    PairSums& s = Find(pk);
    s.bytes += bytes;
    s.packets += packets;
    s.connections++;
  }

  size_t size() const { return size_; }

  template <typename F>
  void ForEach(F f) const {
    for (const Slot& s : slots_)
      if (s.used) f(s.key, s.sums);
  }

 private:
  struct Slot {
    pair_key key;
    bool used;
    PairSums sums;
  };

  static size_t Capacity(size_t expected) {
    size_t c = 1024;
    while (c < expected * 2) c <<= 1;
    return c;
  }

  static uint64_t Hash(const pair_key& k) {
    uint64_t w[4];
    uint32_t tail;
    std::memcpy(w, &k, sizeof(w));
    std::memcpy(&tail, reinterpret_cast<const uint8_t*>(&k) + sizeof(w), sizeof(tail));
    uint64_t h = tail;
    for (uint64_t x : w) {
      h = (h ^ x) * 0x9E3779B97F4A7C15ull;
      h ^= h >> 29;
    }
    return h;
  }

  PairSums& Find(const pair_key& k) {
    for (size_t i = Hash(k) & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (!s.used) {
        if ((size_ + 1) * 2 > slots_.size()) {
          Resize(slots_.size() * 2);
          return Find(k);
        }
        s.used = true;
        s.key = k;
        size_++;
        return s.sums;
      }
      if (std::memcmp(&s.key, &k, sizeof(k)) == 0) return s.sums;
    }
  }

  void Resize(size_t capacity) {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(capacity, Slot{});
    mask_ = capacity - 1;
    size_ = 0;
    for (const Slot& s : old) {
      if (!s.used) continue;
      for (size_t i = Hash(s.key) & mask_;; i = (i + 1) & mask_) {
        if (slots_[i].used) continue;
        slots_[i] = s;
        size_++;
        break;
      }
    }
  }

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace ebpf_agent

#endif
