// How the process's C heap treats the step's short-lived tensors (see allocator.cc).
#pragma once

namespace tinyforge {

/** Keep freed activation buffers in the heap for the next step; call once, at load. */
void keepStepBuffersInHeap();

}  // namespace tinyforge
