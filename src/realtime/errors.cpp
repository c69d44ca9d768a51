// The error category of the public API (forrealtime::errc).
#include "forrealtime/errors.hpp"

#include <string>

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

}  // namespace

const boost::system::error_category& category() noexcept {
  static const Category c;
  return c;
}

}  // namespace forrealtime
