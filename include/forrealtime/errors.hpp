// Errors of the forrealtime API (emit, history, subscribe), as a boost::system category.
#pragma once

#include <boost/system/error_code.hpp>

namespace forrealtime {

enum class errc {
  invalid_channel = 1,  // empty, over 256 bytes, not UTF-8, or with control characters
  invalid_event,        // not `namespace.event`
  unknown_event,        // not in the schema (strict mode)
  invalid_payload,      // the payload does not match the schema
  invalid_query,        // a history query that makes no sense
  store_failed,         // the store could not do it (see the log for the store's error)
};
const boost::system::error_category& category() noexcept;
inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), category()};
}

}  // namespace forrealtime

template <>
struct boost::system::is_error_code_enum<forrealtime::errc> : std::true_type {};
