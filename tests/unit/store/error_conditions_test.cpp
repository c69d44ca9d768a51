// The error model (errors.hpp): every code of every forrealtime category compares equal to the
// conditions it promises and to no other, so that callers can decide by condition alone.
#include <gtest/gtest.h>

#include <boost/system/errc.hpp>

#include "forrealtime/errors.hpp"
#include "forrealtime/store.hpp"

using namespace forrealtime;
using boost::system::error_code;

namespace {

// The conditions a code equals, as a bit set (1 << condition).
unsigned conditions_of(const error_code& ec) {
  unsigned bits = 0;
  for (auto c : {condition::invalid_input, condition::store_unavailable, condition::outcome_unknown,
                 condition::limit_reached, condition::store_failed})
    if (ec == c) bits |= 1u << static_cast<int>(c);
  return bits;
}

unsigned bits(std::initializer_list<condition> cs) {
  unsigned b = 0;
  for (auto c : cs) b |= 1u << static_cast<int>(c);
  return b;
}

}  // namespace

TEST(ErrorConditions, RealtimeChecksAreInvalidInputOnly) {
  for (auto e : {errc::invalid_channel, errc::invalid_event, errc::unknown_event,
                 errc::invalid_payload, errc::invalid_query})
    EXPECT_EQ(conditions_of(make_error_code(e)), bits({condition::invalid_input}))
        << make_error_code(e).message();
  EXPECT_EQ(conditions_of(make_error_code(errc::store_failed)), bits({condition::store_failed}));
}

TEST(ErrorConditions, StoreCodesAreStoreFailuresOfTheirKind) {
  EXPECT_EQ(conditions_of(store_errc::unavailable),
            bits({condition::store_unavailable, condition::store_failed}));
  EXPECT_EQ(conditions_of(store_errc::stopped),
            bits({condition::store_unavailable, condition::store_failed}));
  EXPECT_EQ(conditions_of(store_errc::timeout),
            bits({condition::outcome_unknown, condition::store_failed}));
  EXPECT_EQ(conditions_of(store_errc::limit_reached),
            bits({condition::limit_reached, condition::store_failed}));
  EXPECT_EQ(conditions_of(store_errc::protocol), bits({condition::store_failed}));
  // Defect 1's root: a store failure is not errc::store_failed, and need not be.
  EXPECT_NE(error_code(store_errc::unavailable), make_error_code(errc::store_failed));
  EXPECT_NE(error_code(store_errc::unavailable), condition::invalid_input);
}

TEST(ErrorConditions, ForeignCodesAndSuccessEqualNoCondition) {
  EXPECT_EQ(conditions_of(error_code{}), 0u);
  EXPECT_EQ(conditions_of(make_error_code(boost::system::errc::invalid_argument)), 0u);
  EXPECT_EQ(conditions_of(make_error_code(boost::system::errc::timed_out)), 0u);
  // Same value, other category: the category decides, not the number.
  EXPECT_NE(error_code(1, boost::system::generic_category()), condition::invalid_input);
}

TEST(ErrorConditions, ConditionsHaveNamesAndMessages) {
  EXPECT_STREQ(condition_category().name(), "forrealtime.condition");
  auto c = make_error_condition(condition::outcome_unknown);
  EXPECT_NE(c.message().find("unknown"), std::string::npos);
  EXPECT_EQ(error_code(store_errc::limit_reached).message(), "a limit of the store was reached");
}
