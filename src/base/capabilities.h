#pragma once

namespace anyscan {

// Whether the calling thread holds `capability` (a CAP_* number) in its effective set,
// read with capget(2): no file, no library.
bool has_effective_capability(int capability);

}  // namespace anyscan
