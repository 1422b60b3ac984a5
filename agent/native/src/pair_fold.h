// SPDX-License-Identifier: Apache-2.0
// Per-pair sums of a flow map's connections, keyed by the packed pair_key
// (bpf/flows.h). readPairs folds a drained slot with it
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

// Packed to 4 bytes: the sums follow the 36-byte key directly, so an entry is
// the 56-byte pair record readPairs hands to JavaScript as is.
#pragma pack(push, 4)
struct PairSums {
  uint64_t bytes = 0;
  uint64_t packets = 0;
  uint32_t connections = 0;
};
#pragma pack(pop)

// Sums live in one dense vector in first-seen order; the open-addressing
// table holds only 4-byte indices into it, so 100k pairs take ~7 MiB, not the
// ~40 MiB a table of whole slots grew to (bench/ footprint).
class PairFolder {
 public:
#pragma pack(push, 4)
  struct Entry {
    pair_key key;
    PairSums sums;
  };
#pragma pack(pop)

  explicit PairFolder(size_t expected) {
    entries_.reserve(expected);  // doubling from here: at most ~2x, freed after the read
    Rehash(Capacity(expected));
  }

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

  size_t size() const { return entries_.size(); }
  std::vector<Entry> TakeEntries() { return std::move(entries_); }

 private:
  static constexpr uint32_t kEmpty = UINT32_MAX;

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
    size_t i = Hash(k) & mask_;
    for (;; i = (i + 1) & mask_) {
      uint32_t e = slots_[i];
      if (e == kEmpty) break;
      if (std::memcmp(&entries_[e].key, &k, sizeof(k)) == 0) return entries_[e].sums;
    }
    slots_[i] = static_cast<uint32_t>(entries_.size());
    entries_.push_back(Entry{k, PairSums{}});
    if (entries_.size() * 2 > slots_.size()) Rehash(slots_.size() * 2);
    return entries_.back().sums;
  }

  void Rehash(size_t capacity) {
    slots_.assign(capacity, kEmpty);
    mask_ = capacity - 1;
    for (uint32_t e = 0; e < entries_.size(); e++) {
      size_t i = Hash(entries_[e].key) & mask_;
      while (slots_[i] != kEmpty) i = (i + 1) & mask_;
      slots_[i] = e;
    }
  }

  std::vector<Entry> entries_;
  std::vector<uint32_t> slots_;
  size_t mask_ = 0;
};

}  // namespace ebpf_agent

#endif
