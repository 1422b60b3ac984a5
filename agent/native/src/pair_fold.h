// SPDX-License-Identifier: Apache-2.0
// Per-pair sums of a flow map's connections, keyed by the packed pair_key
// (bpf/flows.h). readPairs folds a drained slot with it
// and the bench's C floor too, so the two are compared like for like. A
// std::unordered_map keyed by std::string allocated a key per pair and hashed
// byte by byte: the fold was a third of the drain (bench/ drain).
#ifndef EBPF_AGENT_PAIR_FOLD_H
#define EBPF_AGENT_PAIR_FOLD_H

#include <algorithm>
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

  // Queued, not summed yet: the pair's slot is fetched now and summed
  // kDepth connections later, when it is in cache. A drain's connections
  // come in the kernel's bucket order, random per pair, and waiting on two
  // cache misses per connection (slot, then entry) made this fold take as long
  // as reading the map (bench/ drain).
  void Add(const flow_key& k, uint64_t bytes, uint64_t packets) {
    Pending& p = ring_[queued_++ & (kDepth - 1)];
    if (queued_ > kDepth) Sum(p);
    std::memset(&p.key, 0, sizeof(p.key));
    p.key.family = k.family;
    p.key.protocol = k.protocol;
    std::memcpy(p.key.src_addr, k.src_addr, 16);
    std::memcpy(p.key.dst_addr, k.dst_addr, 16);
    p.hash = Hash(p.key);
    p.bytes = bytes;
    p.packets = packets;
    __builtin_prefetch(&slots_[p.hash & mask_]);
    // Halfway through the queue the slot has arrived: fetch its entry.
    if (queued_ > kDepth / 2) {
      uint32_t e = slots_[ring_[(queued_ - kDepth / 2 - 1) & (kDepth - 1)].hash & mask_];
      if (e != kEmpty) __builtin_prefetch(&entries_[e]);
    }
  }

  size_t size() {
    Flush();
    return entries_.size();
  }
  std::vector<Entry> TakeEntries() {
    Flush();
    return std::move(entries_);
  }

 private:
  static constexpr uint32_t kEmpty = UINT32_MAX;
  // Deep enough to cover a cache miss (~100 ns in a busy VM) with the work of
  // the connections queued before; a power of two.
  static constexpr size_t kDepth = 16;

  struct Pending {
    pair_key key;
    uint64_t hash;
    uint64_t bytes;
    uint64_t packets;
  };

  void Sum(const Pending& p) {
    PairSums& s = Find(p.key, p.hash);
    s.bytes += p.bytes;
    s.packets += p.packets;
    s.connections++;
  }

  // Sums what is queued, oldest first: entries keep first-seen order.
  void Flush() {
    size_t n = std::min(queued_, kDepth);
    for (size_t i = queued_ - n; i < queued_; i++) Sum(ring_[i & (kDepth - 1)]);
    queued_ = 0;
  }

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

  PairSums& Find(const pair_key& k, uint64_t hash) {
    size_t i = hash & mask_;
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
  Pending ring_[kDepth];
  size_t queued_ = 0;  // connections added since the last flush; the last kDepth of them wait in ring_
};

}  // namespace ebpf_agent

#endif
