// The error categories of the public API: the codes of Realtime's own checks (errc) and the
// conditions (condition) that codes of every forrealtime category compare equal to. The
// mapping from codes to conditions lives here, in `ConditionCategory::equivalent`, and only
// here: errors.hpp says what each condition promises, and callers ask the condition.
#include "forrealtime/errors.hpp"

#include <string>

#include "forrealtime/store.hpp"

namespace forrealtime {
namespace {

class Category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "forrealtime"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::invalid_channel:
        return "invalid channel name";
      case errc::invalid_event:
        return "invalid event name (expected namespace.event)";
      case errc::unknown_event:
        return "unknown event (not in the schema)";
      case errc::invalid_payload:
        return "the payload does not match the schema";
      case errc::invalid_query:
        return "invalid history query";
      case errc::store_failed:
        return "the store failed";
    }
    return "unknown error";
  }
};

bool realtime_code_is(errc e, condition c) {
  switch (e) {
    case errc::invalid_channel:
    case errc::invalid_event:
    case errc::unknown_event:
    case errc::invalid_payload:
    case errc::invalid_query:
      return c == condition::invalid_input;
    case errc::store_failed:
      return c == condition::store_failed;
  }
  return false;
}

bool store_code_is(store_errc e, condition c) {
  if (c == condition::store_failed) return true;  // every store code is a store failure
  switch (e) {
    case store_errc::unavailable:
    case store_errc::stopped:
      return c == condition::store_unavailable;
    case store_errc::timeout:
      return c == condition::outcome_unknown;
    case store_errc::limit_reached:
      return c == condition::limit_reached;
    case store_errc::protocol:
      return false;
  }
  return false;
}

class ConditionCategory final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "forrealtime.condition"; }
  std::string message(int ev) const override {
    switch (static_cast<condition>(ev)) {
      case condition::invalid_input:
        return "the request is invalid";
      case condition::store_unavailable:
        return "the store is unavailable";
      case condition::outcome_unknown:
        return "the store did not answer in time; the outcome is unknown";
      case condition::limit_reached:
        return "a limit of the store was reached";
      case condition::store_failed:
        return "the store failed";
    }
    return "unknown condition";
  }
  // Codes of categories other than ours (a custom store's system errors, a custom schema's
  // codes) are equal to no condition: a caller that keeps work for retry on anything but
  // `invalid_input` then keeps it, which is the safe side.
  bool equivalent(const boost::system::error_code& code, int cond) const noexcept override {
    auto c = static_cast<condition>(cond);
    if (code.category() == category()) return realtime_code_is(static_cast<errc>(code.value()), c);
    if (code.category() == store_category())
      return store_code_is(static_cast<store_errc>(code.value()), c);
    return false;
  }
};

}  // namespace

const boost::system::error_category& category() noexcept {
  static const Category c;
  return c;
}

const boost::system::error_category& condition_category() noexcept {
  static const ConditionCategory c;
  return c;
}

}  // namespace forrealtime
