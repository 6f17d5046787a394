#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <utility>

namespace anyscan {

// Move-only owner of an mmap()ed region (packet rings, UMEM).
class MappedMemory {
 public:
  MappedMemory() = default;
  MappedMemory(void* addr, size_t bytes) : addr_(addr), bytes_(bytes) {}
  MappedMemory(MappedMemory&& other) noexcept
      : addr_(std::exchange(other.addr_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}
  MappedMemory& operator=(MappedMemory&& other) noexcept {
    if (this != &other) {
      reset();
      addr_ = std::exchange(other.addr_, nullptr);
      bytes_ = std::exchange(other.bytes_, 0);
    }
    return *this;
  }
  MappedMemory(const MappedMemory&) = delete;
  MappedMemory& operator=(const MappedMemory&) = delete;
  ~MappedMemory() { reset(); }

  void* get() const { return addr_; }
  size_t size() const { return bytes_; }
  void reset() {
    if (addr_ != nullptr) ::munmap(addr_, bytes_);
    addr_ = nullptr;
    bytes_ = 0;
  }

 private:
  void* addr_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace anyscan
