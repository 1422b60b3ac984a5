// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <napi.h>

#include <cstddef>
#include <cstdint>

namespace ebpf_agent {

// Blocks until every BPF program that started before the call has returned.
void WaitForPrograms();

// Deletes len / ks keys; missing keys are not an error. 0 or an errno.
int DeleteAll(int fd, const uint8_t* keys, uint32_t ks, size_t len);

// The bytes of a Buffer argument, kept alive (and, by the contract in
// native.d.ts, unchanged) until the worker has settled.
class HeldBytes {
 public:
  explicit HeldBytes(const Napi::Buffer<uint8_t>& b) : ref_(Napi::Persistent(b)), data_(b.Data()), len_(b.Length()) {}
  const uint8_t* data() const { return data_; }
  size_t size() const { return len_; }

 private:
  Napi::Reference<Napi::Buffer<uint8_t>> ref_;
  const uint8_t* data_;
  size_t len_;
};

}  // namespace ebpf_agent
