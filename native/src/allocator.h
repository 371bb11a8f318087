// A size-class caching allocator for libtorch's CPU tensors; see allocator.cpp for why training needs one.
#pragma once

namespace rankwise {

/** Makes libtorch allocate its CPU tensors of 1 MiB and more through the cache. Idempotent. */
void installCachingAllocator();

}  // namespace rankwise
