// The pipeline state machine (see pipeline.hpp).
#include "store/redis/pipeline.hpp"

#include <utility>

#include "forrealtime/store.hpp"

namespace forrealtime::redis {

void Pipeline::expect(Callback cb, Clock::time_point deadline) {
  if (dead_) {
    cb(nullptr, store_errc::unavailable);
    return;
  }
  pending_.push_back(Pending{std::move(cb), deadline});
}

void Pipeline::take_output(std::string& buf) {
  buf.clear();
  buf.swap(out_);
  sent_ = pending_.size();
}

boost::system::error_code Pipeline::on_bytes(const char* data, std::size_t n) {
  if (dead_) return {};
  if (!reader_.feed(data, n)) return store_errc::protocol;
  for (;;) {
    if (dead_) return {};
    Reply r = reader_.next();
    if (!r)
      return reader_.failed() ? boost::system::error_code(store_errc::protocol)
                              : boost::system::error_code{};
    if (pending_.empty()) {
      if (!push_) return store_errc::protocol;
      push_(std::move(r));
      continue;
    }
    Callback cb = std::move(pending_.front().cb);
    pending_.pop_front();
    if (sent_ > 0) --sent_;
    // A command that timed out keeps its slot with an empty callback: its late reply lands here.
    if (cb) cb(std::move(r), {});
  }
}

bool Pipeline::on_tick(Clock::time_point now, Clock::duration grace) {
  // By index: a callback may queue more commands (push_back invalidates deque iterators).
  for (std::size_t i = 0; i < pending_.size(); ++i) {
    if (pending_[i].deadline <= now && pending_[i].cb) {
      auto cb = std::move(pending_[i].cb);
      pending_[i].cb = nullptr;
      cb(nullptr, store_errc::timeout);
      if (dead_) return false;
    }
  }
  return !pending_.empty() && pending_.front().deadline + grace <= now;
}

void Pipeline::fail_all(boost::system::error_code ec) {
  dead_ = true;
  out_.clear();
  auto pending = std::move(pending_);
  pending_.clear();
  std::size_t sent = std::exchange(sent_, 0);
  for (std::size_t i = 0; i < pending.size(); ++i)
    if (pending[i].cb)
      pending[i].cb(nullptr, i < sent ? boost::system::error_code(store_errc::timeout) : ec);
}

}  // namespace forrealtime::redis
