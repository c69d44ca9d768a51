// Errors of the forrealtime API: the codes (what exactly went wrong) and the conditions (what a
// caller should do about it), in Beast's `error` / `condition` pattern.
//
// Fallible calls return `boost::system::result<T>` (or complete with one). Their error codes
// come from several categories: `errc` below (checks made by Realtime itself), `store_errc`
// (store.hpp, what a store reports), and the schema's. Callers never compare against a code of
// one category to decide what to do: they ask the condition, which every category's codes
// compare equal to:
//
//   auto id = rt.channel("room").emit("chat.message", data);
//   if (!id && id.error() == forrealtime::condition::invalid_input) ... // refused for good
//   if (!id && id.error() == forrealtime::condition::outcome_unknown) ... // maybe stored
//
// What each condition promises:
//  - invalid_input: the request itself is wrong (channel, event name, payload, query). Nothing
//    was stored, and the same request will be refused again: do not retry it.
//  - store_unavailable: the store could not be reached (or was stopped). Nothing was stored;
//    the same request may succeed later.
//  - outcome_unknown: the store did not answer in time. The event may or may not have been
//    stored: retry only with an idempotency key, or look at the history first.
//  - limit_reached: a configured bound of the store refused it (the memory store's cap on the
//    number of channels). Nothing was stored; it may succeed once room is made.
//  - store_failed: any failure of the store, the three above included (and an engine that
//    answered something unexpected). Nothing about the input is known to be wrong.
#pragma once

#include <type_traits>

#include <boost/system/error_category.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/error_condition.hpp>

namespace forrealtime {

/** Codes of the checks Realtime makes itself. Each is `condition::invalid_input`, but
 *  `store_failed`, which is `condition::store_failed` (kept for code that produced it; the
 *  library now passes the store's own code on). */
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

/** What a caller should do about an error (see the top of this file). Compare codes of any
 *  forrealtime category with these: `ec == condition::store_unavailable`. */
enum class condition {
  invalid_input = 1,
  store_unavailable,
  outcome_unknown,
  limit_reached,
  store_failed,
};
const boost::system::error_category& condition_category() noexcept;
inline boost::system::error_condition make_error_condition(condition c) noexcept {
  return {static_cast<int>(c), condition_category()};
}

}  // namespace forrealtime

template <>
struct boost::system::is_error_code_enum<forrealtime::errc> : std::true_type {};
template <>
struct boost::system::is_error_condition_enum<forrealtime::condition> : std::true_type {};
