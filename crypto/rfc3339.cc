#include "crypto/rfc3339.h"

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace parley {
namespace {

// The n decimal digits at s[pos], or false.
bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};
  if (month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0)) {
    return 29;
  }
  return kDays[month - 1];
}

}  // namespace

absl::StatusOr<absl::Time> ParseRfc3339Utc(std::string_view s) {
  int year, month, day, hour, minute, second;
  if (!Digits(s, 0, 4, &year) || s.size() < 19 || s[4] != '-' ||
      !Digits(s, 5, 2, &month) || s[7] != '-' || !Digits(s, 8, 2, &day) ||
      (s[10] != 'T' && s[10] != 't') || !Digits(s, 11, 2, &hour) ||
      s[13] != ':' || !Digits(s, 14, 2, &minute) || s[16] != ':' ||
      !Digits(s, 17, 2, &second)) {
    return absl::InvalidArgumentError(
        "expected YYYY-MM-DDTHH:MM:SSZ, e.g. 2026-05-01T06:00:00Z");
  }
  if (month < 1 || month > 12) {
    return absl::InvalidArgumentError(absl::StrCat("month ", month));
  }
  if (day < 1 || day > DaysInMonth(year, month)) {
    return absl::InvalidArgumentError(absl::StrCat("day ", day));
  }
  if (hour > 23 || minute > 59) {
    return absl::InvalidArgumentError("hour or minute out of range");
  }
  if (second > 59) {
    return absl::InvalidArgumentError(
        "second out of range (leap seconds are not accepted)");
  }
  size_t pos = 19;
  absl::Duration fraction;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t start = pos;
    int64_t nanos = 0;
    int scale = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (scale < 9) {
        nanos = nanos * 10 + (s[pos] - '0');
        ++scale;
      }
      ++pos;
    }
    if (pos == start) return absl::InvalidArgumentError("empty fraction");
    for (; scale < 9; ++scale) nanos *= 10;
    fraction = absl::Nanoseconds(nanos);
  }
  std::string_view zone = s.substr(pos);
  if (zone != "Z" && zone != "z" && zone != "+00:00" && zone != "-00:00") {
    int oh, om;
    if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') &&
        Digits(zone, 1, 2, &oh) && zone[3] == ':' && Digits(zone, 4, 2, &om)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "offset ", std::string(zone),
          " is not UTC; give the time in UTC with a Z suffix"));
    }
    return absl::InvalidArgumentError(
        "missing or malformed time zone; expected Z");
  }
  absl::Time t = absl::FromCivil(
      absl::CivilSecond(year, month, day, hour, minute, second),
      absl::UTCTimeZone());
  return t + fraction;
}

std::string FormatRfc3339Utc(absl::Time t) {
  absl::Duration sub = (t - absl::UnixEpoch()) % absl::Seconds(1);
  if (sub == absl::ZeroDuration()) {
    return absl::FormatTime("%E4Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
  }
  // %E4Y: four digits for every year ParseRfc3339Utc takes (0000-9999);
  // %Y would write 548 for 0548.
  return absl::FormatTime("%E4Y-%m-%dT%H:%M:%E*SZ", t, absl::UTCTimeZone());
}

}  // namespace parley
