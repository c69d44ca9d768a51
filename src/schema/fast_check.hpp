// A fast path in front of valijson for the JSON Schemas that payloads mostly have (type,
// properties, required, additionalProperties, items, enum, const, minimum/maximum,
// minLength/maxLength). It only ever says "passes for sure": anything else (a failure, a
// keyword it does not know, a value it cannot judge exactly as valijson would) goes to valijson,
// which stays the reference and writes every error text. valijson copies its context (a vector
// of strings) for each property it visits; this path allocates nothing.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/json/value.hpp>

namespace forrealtime::schema_detail {

class FastCheck {
 public:
  /** Null when `schema` uses anything outside the subset: then valijson alone decides. */
  static std::unique_ptr<FastCheck> compile(const boost::json::value& schema);
  /** True only when `v` certainly matches the schema (as valijson would judge it). */
  bool passes(const boost::json::value& v) const;

  ~FastCheck();
  FastCheck();

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  bool compile_into(const boost::json::value& schema);

  bool always_ = false;
  bool never_ = false;
  unsigned types_ = 0;  // bit per JSON type; 0: any
  std::unordered_map<std::string, std::unique_ptr<FastCheck>, Hash, std::equal_to<>> properties_;
  std::vector<std::string> required_;
  enum class Extra { any, none, schema } extra_ = Extra::any;
  std::unique_ptr<FastCheck> extra_schema_;
  std::unique_ptr<FastCheck> items_;
  std::optional<boost::json::array> enum_;
  std::optional<double> minimum_, maximum_;
  std::optional<std::uint64_t> min_length_, max_length_;
};

}  // namespace forrealtime::schema_detail
