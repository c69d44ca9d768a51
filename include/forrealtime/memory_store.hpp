// The embedded in-memory store: the zero-setup default. Streams live in this process only and
// are lost when it exits; use the Redis store to share events between processes or keep them.
#pragma once

#include <memory>

#include "forrealtime/store.hpp"

namespace forrealtime {

/** Creates an in-memory store (also what `Options::store == nullptr` means). */
std::shared_ptr<Store> make_memory_store();

}  // namespace forrealtime
