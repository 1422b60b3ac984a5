// SPDX-License-Identifier: Apache-2.0
// An open-addressing hash table keyed by flow_key, the value inline: one
// cache line per entry, so a drain's look-up of 100k translated connections
// is ~one miss each. std::unordered_map chased two or three pointers per
// look-up: 1.4 us each on a loaded 2-core VM, a third of the drain (bench/ service).
// Linear probing with backward-shift deletion (no tombstones), so a table
// that sees constant inserts and erases (conntrack events) never degrades.
#ifndef EBPF_AGENT_FLOW_TABLE_H
#define EBPF_AGENT_FLOW_TABLE_H

#include <cstdint>
#include <cstring>
#include <vector>

#include "flows.h"

namespace ebpf_agent {

inline uint64_t HashFlowKey(const flow_key& k) {
  uint64_t w[5];
  std::memcpy(w, &k, sizeof(w));
  uint64_t h = 0;
  for (uint64_t x : w) {
    h = (h ^ x) * 0x9E3779B97F4A7C15ull;
    h ^= h >> 29;
  }
  return h;
}

template <typename V>
class FlowTable {
 public:
  FlowTable() { slots_.resize(1024); }

  size_t size() const { return size_; }

  V* Find(const flow_key& k) {
    size_t mask = slots_.size() - 1;
    for (size_t i = HashFlowKey(k) & mask;; i = (i + 1) & mask) {
      Slot& s = slots_[i];
      if (!s.used) return nullptr;
      if (std::memcmp(&s.key, &k, sizeof(k)) == 0) return &s.value;
    }
  }

  // Starts loading k's home slot into the cache: a batch of look-ups issues
  // this a few keys ahead, so their misses overlap instead of queueing.
  void Prefetch(const flow_key& k) const { __builtin_prefetch(&slots_[HashFlowKey(k) & (slots_.size() - 1)]); }
  void Put(const flow_key& k, const V& v) {
    if ((size_ + 1) * 4 > slots_.size() * 3) Grow();
    size_t mask = slots_.size() - 1;
    for (size_t i = HashFlowKey(k) & mask;; i = (i + 1) & mask) {
      Slot& s = slots_[i];
      if (!s.used) {
        s.used = true;
        s.key = k;
        s.value = v;
        size_++;
        return;
      }
      if (std::memcmp(&s.key, &k, sizeof(k)) == 0) {
        s.value = v;
        return;
      }
    }
  }

  bool Erase(const flow_key& k) {
    size_t mask = slots_.size() - 1;
    size_t i = HashFlowKey(k) & mask;
    for (;; i = (i + 1) & mask) {
      if (!slots_[i].used) return false;
      if (std::memcmp(&slots_[i].key, &k, sizeof(k)) == 0) break;
    }
    EraseAt(i);
    return true;
  }

  // Erases every entry pred(value) is true for.
  template <typename Pred>
  void EraseIf(Pred pred) {
    for (size_t i = 0; i < slots_.size();) {
      if (slots_[i].used && pred(slots_[i].value)) EraseAt(i);  // the slot may hold a shifted entry now
      else i++;
    }
  }

  template <typename F>
  void ForEach(F f) const {
    for (const Slot& s : slots_)
      if (s.used) f(s.key, s.value);
  }

  void Swap(FlowTable& other) {
    slots_.swap(other.slots_);
    std::swap(size_, other.size_);
  }

 private:
  struct Slot {
    flow_key key;
    bool used = false;
    V value;
  };

  void EraseAt(size_t i) {
    size_t mask = slots_.size() - 1;
    slots_[i].used = false;
    size_--;
    // Backward shift: move later entries of the probe run into the hole.
    for (size_t j = (i + 1) & mask; slots_[j].used; j = (j + 1) & mask) {
      size_t home = HashFlowKey(slots_[j].key) & mask;
      // Does j's home lie cyclically in (i, j]? Then it stays.
      bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
      if (stays) continue;
      slots_[i] = slots_[j];
      slots_[j].used = false;
      i = j;
    }
  }

  void Grow() {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.resize(old.size() * 2);
    size_ = 0;
    for (const Slot& s : old)
      if (s.used) Put(s.key, s.value);
  }

  std::vector<Slot> slots_;
  size_t size_ = 0;
};

}  // namespace ebpf_agent

#endif
