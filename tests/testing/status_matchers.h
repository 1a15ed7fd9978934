#ifndef PARLEY_TESTS_TESTING_STATUS_MATCHERS_H_
#define PARLEY_TESTS_TESTING_STATUS_MATCHERS_H_

#include <ostream>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace parley::testing {

inline const absl::Status& GetStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

// EXPECT_THAT(DoThing(), StatusIs(absl::StatusCode::kNotFound));
MATCHER_P(StatusIs, code,
          std::string("has status code ") +
              absl::StatusCodeToString(static_cast<absl::StatusCode>(code))) {
  const absl::Status& s = ::parley::testing::GetStatus(arg);
  *result_listener << "status is " << s;
  return s.code() == code;
}

MATCHER(IsOk, "is OK") {
  const absl::Status& s = ::parley::testing::GetStatus(arg);
  *result_listener << "status is " << s;
  return s.ok();
}

}  // namespace parley::testing

#define PARLEY_CONCAT_INNER(a, b) a##b
#define PARLEY_CONCAT(a, b) PARLEY_CONCAT_INNER(a, b)

#define EXPECT_OK(expr) EXPECT_THAT((expr), ::parley::testing::IsOk())
#define ASSERT_OK(expr) ASSERT_THAT((expr), ::parley::testing::IsOk())

// ASSERT_OK_AND_ASSIGN(auto value, StatusOrReturningCall());
#define ASSERT_OK_AND_ASSIGN(lhs, expr)                                   \
  auto PARLEY_CONCAT(status_or_, __LINE__) = (expr);                      \
  ASSERT_TRUE(PARLEY_CONCAT(status_or_, __LINE__).ok())                   \
      << PARLEY_CONCAT(status_or_, __LINE__).status();                    \
  lhs = std::move(PARLEY_CONCAT(status_or_, __LINE__)).value()

#endif  // PARLEY_TESTS_TESTING_STATUS_MATCHERS_H_
