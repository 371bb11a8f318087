#include "allocator.h"

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <vector>

// Exported by libc10 1.13 (64-byte aligned, like every libtorch CPU tensor) but declared in no installed header.
namespace c10 {
C10_API void* alloc_cpu(size_t nbytes);
C10_API void free_cpu(void* data);
}  // namespace c10

namespace rankwise {
namespace {

// Below this, glibc serves requests from its arena without touching the kernel; caching would not help.
constexpr size_t kMinCached = size_t{1} << 20;
// Each block starts with its size class, one alignment unit long, so the pointer alone identifies it (libtorch
// also frees through raw_deleter(), which gets nothing else).
constexpr size_t kHeader = 64;

/**
 * Keeps freed large blocks for reuse by size class. A training step frees and re-allocates the same few hundred
 * tensors (attention maps, activations, the dense word-embedding gradient) every time. From a libuv worker thread
 * glibc serves each of them with a fresh mmap, so every step page-faulted ~1 GB back in: ~10x the minor faults of
 * the same loop on the main thread, and 0.95-1.1 s instead of ~0.75 s per MiniLM-L6 step at batch 16 x 128.
 */
class CachingCpuAllocator final : public c10::Allocator {
 public:
  CachingCpuAllocator() {
    const long pages = sysconf(_SC_PHYS_PAGES);
    const long pageSize = sysconf(_SC_PAGESIZE);
    const size_t physical = pages > 0 && pageSize > 0 ? static_cast<size_t>(pages) * static_cast<size_t>(pageSize) : size_t{8} << 30;
    // Enough for the transient memory of a base-sized training step, never more than an eighth of the machine.
    limit_ = std::min(size_t{4} << 30, physical / 8);
  }

  c10::DataPtr allocate(size_t n) const override {
    if (n < kMinCached) return c10::GetDefaultCPUAllocator()->allocate(n);
    const size_t size = sizeClass(n + kHeader);
    void* base = nullptr;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = free_.find(size);
      if (it != free_.end() && !it->second.empty()) {
        base = it->second.back();
        it->second.pop_back();
        cached_ -= size;
      }
    }
    if (!base) {
      try {
        base = c10::alloc_cpu(size);
      } catch (const c10::Error&) {
        // Out of memory with blocks parked here: give them back and try once more.
        trim();
        base = c10::alloc_cpu(size);
      }
      *static_cast<size_t*>(base) = size;
    }
    void* data = static_cast<char*>(base) + kHeader;
    return {data, data, &CachingCpuAllocator::release, c10::Device(c10::DeviceType::CPU)};
  }

  c10::DeleterFnPtr raw_deleter() const override { return &CachingCpuAllocator::release; }

  static CachingCpuAllocator& instance() {
    // Never destroyed: tensors may still be freed while the process exits.
    static auto* allocator = new CachingCpuAllocator();
    return *allocator;
  }

 private:
  /** Rounded up to 1/8 of its power of two (at most 12.5% slack), so slightly different shapes share blocks. */
  static size_t sizeClass(size_t n) {
    size_t top = 1;
    while ((top << 1) <= n) top <<= 1;
    const size_t step = std::max<size_t>(top / 8, 4096);
    return (n + step - 1) / step * step;
  }

  static void release(void* data) {
    if (!data) return;
    void* base = static_cast<char*>(data) - kHeader;
    const size_t size = *static_cast<size_t*>(base);
    auto& self = instance();
    {
      std::lock_guard<std::mutex> lock(self.mutex_);
      if (self.cached_ + size <= self.limit_) {
        self.free_[size].push_back(base);
        self.cached_ += size;
        return;
      }
    }
    c10::free_cpu(base);
  }

  void trim() const {
    std::vector<void*> blocks;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (auto& entry : free_) blocks.insert(blocks.end(), entry.second.begin(), entry.second.end());
      free_.clear();
      cached_ = 0;
    }
    for (void* b : blocks) c10::free_cpu(b);
  }

  mutable std::mutex mutex_;
  mutable std::unordered_map<size_t, std::vector<void*>> free_;
  mutable size_t cached_ = 0;
  size_t limit_ = 0;
};

}  // namespace

void installCachingAllocator() {
  static std::once_flag once;
  // Priority 1 beats libtorch's default CPU allocator (registered at 0); only libtorch's own tensors use it.
  std::call_once(once, [] { c10::SetCPUAllocator(&CachingCpuAllocator::instance(), 1); });
}

}  // namespace rankwise
