// parse_change (change.hpp): Boost.JSON's non-throwing parse, then one check per field.
#include "plugins/postgres_sync/change.hpp"

#include <algorithm>

#include <boost/json/parse.hpp>

namespace forrealtime::pg {
namespace {

namespace json = boost::json;

class ChangeCategory final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "forrealtime.postgres_change"; }
  std::string message(int ev) const override {
    switch (static_cast<change_error>(ev)) {
      case change_error::not_json:
        return "the change is not valid JSON";
      case change_error::not_object:
        return "the change is not a JSON object";
      case change_error::no_table:
        return "the change has no \"table\" string";
      case change_error::unknown_table:
        return "the change names none of our tables";
      case change_error::bad_op:
        return "the change's \"op\" is not INSERT, UPDATE or DELETE";
      case change_error::bad_row:
        return "the change's row is neither an object nor null";
    }
    return "unknown change error";
  }
};

}  // namespace

const boost::system::error_category& change_category() noexcept {
  static const ChangeCategory c;
  return c;
}

std::string_view event_suffix(PgOp op) {
  switch (op) {
    case PgOp::insert:
      return "insert";
    case PgOp::update:
      return "update";
    case PgOp::del:
      return "delete";
  }
  return "?";
}

boost::system::result<Change> parse_change(std::string_view payload,
                                           const std::vector<std::string>& tables) {
  boost::system::error_code ec;
  // parse() with an error code does not throw on bad input; it still may on allocation
  // failure, which is not ours to turn into a refusal.
  json::value v = json::parse(payload, ec);
  if (ec) return make_error_code(change_error::not_json);
  if (!v.is_object()) return make_error_code(change_error::not_object);
  auto& o = v.get_object();
  auto* tv = o.if_contains("table");
  if (!tv || !tv->is_string()) return make_error_code(change_error::no_table);
  std::string_view table(tv->get_string().data(), tv->get_string().size());
  auto it = std::find(tables.begin(), tables.end(), table);
  if (it == tables.end()) return make_error_code(change_error::unknown_table);
  auto* ov = o.if_contains("op");
  if (!ov || !ov->is_string()) return make_error_code(change_error::bad_op);
  std::string_view ops(ov->get_string().data(), ov->get_string().size());
  PgOp op;
  if (ops == "INSERT")
    op = PgOp::insert;
  else if (ops == "UPDATE")
    op = PgOp::update;
  else if (ops == "DELETE")
    op = PgOp::del;
  else
    return make_error_code(change_error::bad_op);
  Change c{*it, op, {}};
  if (auto* row = o.if_contains(op == PgOp::del ? "old" : "new")) {
    if (row->is_object())
      c.row = std::move(row->get_object());
    else if (!row->is_null())
      return make_error_code(change_error::bad_row);
  }
  if (auto* tr = o.if_contains("truncated"); tr && tr->is_bool() && tr->get_bool())
    c.row["_truncated"] = true;
  return c;
}

}  // namespace forrealtime::pg
