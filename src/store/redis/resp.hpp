// RESP, both ways, with no I/O: commands are encoded as arrays of bulk strings (what every
// Redis client sends), replies are parsed by hiredis 0.14's `redisReader`, which only turns
// bytes into `redisReply` trees and never touches a socket.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include <boost/system/error_code.hpp>

struct redisReply;
struct redisReader;

namespace forrealtime::redis {

/** Appends `*<n>\r\n` and then `$<len>\r\n<arg>\r\n` for each argument to `out`. */
void encode_command(std::string& out, std::span<const std::string_view> args);
inline void encode_command(std::string& out, std::initializer_list<std::string_view> args) {
  encode_command(out, std::span<const std::string_view>(args.begin(), args.size()));
}

struct ReplyDeleter {
  void operator()(redisReply* r) const noexcept;
};
/** An owned reply tree. */
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

/** Views on a reply; all tolerate null. */
bool is_error(const redisReply* r);
bool is_nil(const redisReply* r);
bool is_array(const redisReply* r);
/** The text of a bulk string, status or error reply; empty for anything else. */
std::string_view text(const redisReply* r);
std::size_t size(const redisReply* r);
/** The i-th element of an array reply, null when out of range or not an array. */
const redisReply* at(const redisReply* r, std::size_t i);
/** An integer reply, or a bulk string holding a decimal integer. */
bool to_int(const redisReply* r, long long& out);

/** Incremental reply parser: feed bytes as they arrive, take whole replies as they complete. */
class ReplyReader {
 public:
  ReplyReader();
  ~ReplyReader();
  ReplyReader(const ReplyReader&) = delete;
  ReplyReader& operator=(const ReplyReader&) = delete;

  /** Adds received bytes; false on a protocol error (the stream is then unusable). */
  bool feed(const char* data, std::size_t n);
  /** The next complete reply, or null when more bytes are needed (or on a protocol error:
   *  see `failed()`). */
  Reply next();
  bool failed() const { return failed_; }

 private:
  redisReader* reader_;
  bool failed_ = false;
};

}  // namespace forrealtime::redis
