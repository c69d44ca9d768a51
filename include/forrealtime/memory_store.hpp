// The embedded in-memory store: the zero-setup default. Streams live in this process only and
// are lost when it exits; use the Redis store to share events between processes or keep them.
//
// It is bounded by default, so that no client can make it grow without end (every bound is an
// option below; the gateway's `serve --memory-*` flags set them):
//  - each channel keeps at most `max_length` entries when the append asks for no cap;
//  - at most `max_channels` channels and `max_bytes` of stored messages: an append beyond
//    either fails with `store_errc::limit_reached` (`condition::limit_reached`, HTTP 507) and
//    stores nothing;
//  - a channel with no append for `idle_expire_secs` (when the append asks for no expiry) is
//    erased, and every expired channel is erased, its memory given back: nothing is left
//    behind (no tombstone) but one store-wide id, so that "history lost" stays exact.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "forrealtime/store.hpp"

namespace forrealtime {

struct MemoryStoreOptions {
  /** Entries kept per channel when `AppendOptions::max_length` is 0; 0 keeps all. */
  std::size_t max_length = 1000;
  /** Channels that may hold entries at once; 0 for no cap. */
  std::size_t max_channels = 10000;
  /** Bytes of stored messages (JSON text) at once; 0 for no cap. */
  std::size_t max_bytes = 256u * 1024 * 1024;
  /** A channel is erased this long after its last append when the append asked for no
   *  expiry (`AppendOptions::expire_after_secs` 0); 0 keeps idle channels. */
  std::uint64_t idle_expire_secs = 24 * 3600;
};

/** The memory store, with what it holds (for tests, metrics and capacity planning). */
class MemoryStore : public Store {
 public:
  struct Stats {
    std::size_t channels = 0;
    std::size_t entries = 0;
    /** Bytes of stored messages. */
    std::size_t bytes = 0;
    /** Channels erased because they expired or idled. */
    std::uint64_t channels_erased = 0;
    /** Appends refused by `max_channels` / `max_bytes`. */
    std::uint64_t appends_refused = 0;
  };
  /** Thread-safe; sweeps expired channels first. */
  virtual Stats stats() = 0;
};

/** Creates an in-memory store (also what `Options::store == nullptr` means). */
std::shared_ptr<MemoryStore> make_memory_store(MemoryStoreOptions options = {});

}  // namespace forrealtime
