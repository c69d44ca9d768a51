// The error category of store failures (store_errc), shared by every Store implementation.
#include "forrealtime/store.hpp"

namespace forrealtime {
namespace {

class StoreCategory final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "forrealtime.store"; }
  std::string message(int ev) const override {
    switch (static_cast<store_errc>(ev)) {
      case store_errc::unavailable:
        return "the store is unavailable";
      case store_errc::timeout:
        return "the store did not answer in time";
      case store_errc::protocol:
        return "the store answered something unexpected";
      case store_errc::stopped:
        return "the store was stopped";
      case store_errc::limit_reached:
        return "a limit of the store was reached";
    }
    return "unknown store error";
  }
};

}  // namespace

const boost::system::error_category& store_category() noexcept {
  static const StoreCategory category;
  return category;
}

}  // namespace forrealtime
