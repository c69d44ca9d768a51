// RESP encoding of commands and the hiredis reader wrapper (see resp.hpp).
#include "store/redis/resp.hpp"

#include <charconv>
#include <cstring>

#include <hiredis/hiredis.h>

namespace forrealtime::redis {
namespace {

// hiredis allocates an array reply's element table as soon as it reads the `*<n>` header, before
// any element arrives: `*1111111111\r\n` alone makes it calloc 9 GB (found by fuzz_resp). No reply
// we ask for holds more than a few thousand elements (a history page, an XREAD over a batch of
// streams), so the reader refuses a larger header as a protocol error instead. The element count
// is an `int` in hiredis 0.14 and a `size_t` in 1.x: the wrapper takes whichever the table has.
constexpr long long kMaxArrayElements = 1 << 20;

const redisReplyObjectFunctions* default_functions() {
  static const redisReplyObjectFunctions* fns = [] {
    redisReader* probe = redisReaderCreate();
    auto* f = probe->fn;
    redisReaderFree(probe);
    return f;
  }();
  return fns;
}

template <class Count>
void* create_bounded_array(const redisReadTask* task, Count n) {
  if (static_cast<long long>(n) < 0 || static_cast<long long>(n) > kMaxArrayElements)
    return nullptr;  // hiredis reports this as an error and GetReply fails
  return default_functions()->createArray(task, n);
}

template <class R, class T, class Count>
constexpr auto bounded_array_for(R (*)(T, Count)) {
  return &create_bounded_array<Count>;
}

const redisReplyObjectFunctions* bounded_functions() {
  static const redisReplyObjectFunctions fns = [] {
    redisReplyObjectFunctions f = *default_functions();
    f.createArray = bounded_array_for(f.createArray);
    return f;
  }();
  return &fns;
}

std::size_t digits(std::size_t n) {
  std::size_t d = 1;
  for (; n >= 10; n /= 10) ++d;
  return d;
}

char* put_header(char* p, char kind, std::size_t n, std::size_t nd) {
  *p++ = kind;
  std::to_chars(p, p + nd, n);
  p += nd;
  *p++ = '\r';
  *p++ = '\n';
  return p;
}

}  // namespace

// The exact size first, then one resize and plain stores: an XADD is written in about a third
// of the instructions of appending its 25 pieces one by one (issue 15, callgrind).
void encode_command(std::string& out, std::span<const std::string_view> args) {
  std::size_t total = 3 + digits(args.size());
  for (auto a : args) total += 5 + digits(a.size()) + a.size();
  std::size_t at = out.size();
  out.resize(at + total);
  char* p = out.data() + at;
  p = put_header(p, '*', args.size(), digits(args.size()));
  for (auto a : args) {
    p = put_header(p, '$', a.size(), digits(a.size()));
    if (!a.empty()) std::memcpy(p, a.data(), a.size());
    p += a.size();
    *p++ = '\r';
    *p++ = '\n';
  }
}

void ReplyDeleter::operator()(redisReply* r) const noexcept {
  freeReplyObject(r);
}

bool is_error(const redisReply* r) {
  return r && r->type == REDIS_REPLY_ERROR;
}
bool is_nil(const redisReply* r) {
  return r && r->type == REDIS_REPLY_NIL;
}
bool is_array(const redisReply* r) {
  return r && r->type == REDIS_REPLY_ARRAY;
}

std::string_view text(const redisReply* r) {
  if (!r) return {};
  if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS ||
      r->type == REDIS_REPLY_ERROR)
    return {r->str, static_cast<std::size_t>(r->len)};
  return {};
}

std::size_t size(const redisReply* r) {
  return is_array(r) ? r->elements : 0;
}

const redisReply* at(const redisReply* r, std::size_t i) {
  if (!is_array(r) || i >= r->elements) return nullptr;
  return r->element[i];
}

bool to_int(const redisReply* r, long long& out) {
  if (!r) return false;
  if (r->type == REDIS_REPLY_INTEGER) {
    out = r->integer;
    return true;
  }
  if (r->type == REDIS_REPLY_STRING) {
    auto t = text(r);
    auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
    return ec == std::errc{} && p == t.data() + t.size() && !t.empty();
  }
  return false;
}

ReplyReader::ReplyReader()
    : reader_(redisReaderCreateWithFunctions(
          const_cast<redisReplyObjectFunctions*>(bounded_functions()))) {}
ReplyReader::~ReplyReader() {
  redisReaderFree(reader_);
}

bool ReplyReader::feed(const char* data, std::size_t n) {
  if (failed_) return false;
  if (redisReaderFeed(reader_, data, n) != REDIS_OK) failed_ = true;
  return !failed_;
}

Reply ReplyReader::next() {
  if (failed_) return nullptr;
  void* reply = nullptr;
  if (redisReaderGetReply(reader_, &reply) != REDIS_OK) {
    failed_ = true;
    return nullptr;
  }
  return Reply(static_cast<redisReply*>(reply));
}

}  // namespace forrealtime::redis
