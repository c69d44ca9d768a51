// Sentinel replies, parsed (sentinel_reply.hpp).
#include "store/redis/sentinel_reply.hpp"

#include <charconv>
#include <string>
#include <vector>

#include "store/redis/resp.hpp"

namespace forrealtime::redis {
namespace {

std::optional<NodeAddress> address(std::string_view host, std::string_view port_text) {
  std::uint16_t port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (host.empty() || ec != std::errc{} || end != port_text.data() + port_text.size() || port == 0)
    return std::nullopt;
  return NodeAddress{std::string(host), port};
}

}  // namespace

std::optional<NodeAddress> parse_master_addr(const redisReply* r) {
  if (!is_array(r) || size(r) != 2) return std::nullopt;
  return address(text(at(r, 0)), text(at(r, 1)));
}

std::optional<NodeAddress> parse_switch_master(const redisReply* r, std::string_view master_name) {
  if (!is_array(r) || size(r) != 3 || text(at(r, 0)) != "message" ||
      text(at(r, 1)) != "+switch-master")
    return std::nullopt;
  std::string_view payload = text(at(r, 2));
  std::vector<std::string_view> words;
  while (!payload.empty() && words.size() <= 5) {
    auto sp = payload.find(' ');
    words.push_back(payload.substr(0, sp));
    payload = sp == std::string_view::npos ? "" : payload.substr(sp + 1);
  }
  if (words.size() != 5 || words[0] != master_name) return std::nullopt;
  return address(words[3], words[4]);
}

}  // namespace forrealtime::redis
