// Progress reporting from long kernels: called as (done, total) from the
// calling thread only; it may throw to cancel the work (the exception reaches
// the caller once all workers have stopped).
#pragma once
#include <cstddef>
#include <functional>

namespace pyshape {
using ProgressFn = std::function<void(size_t done, size_t total)>;
}
