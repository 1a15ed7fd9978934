#include "server/rate_limit.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_cat.h"

namespace parley {
namespace {

absl::Status Exhausted(absl::string_view what, absl::Duration retry_after) {
  return absl::ResourceExhaustedError(absl::StrCat(
      what, "; retry in ", absl::ToInt64Milliseconds(retry_after), " ms"));
}

}  // namespace

double TokenBuckets::Refill(Bucket& b, absl::Time now) const {
  double elapsed = std::max(0.0, absl::ToDoubleSeconds(now - b.updated));
  b.tokens = std::min(burst_, b.tokens + elapsed * rate_);
  b.updated = now;
  return b.tokens;
}

bool TokenBuckets::Take(absl::string_view key, double tokens,
                        absl::Duration* retry_after) {
  absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_keys_) {
      absl::erase_if(buckets_, [this, now](auto& kv) {
        return Refill(kv.second, now) >= burst_;
      });
    }
    if (buckets_.size() >= max_keys_) {
      // Every bucket is in use: refuse newcomers rather than grow.
      *retry_after = absl::Seconds(1);
      return false;
    }
    it = buckets_.emplace(std::string(key), Bucket{burst_, now}).first;
  }
  Bucket& b = it->second;
  if (Refill(b, now) >= tokens) {
    b.tokens -= tokens;
    return true;
  }
  double wait_s = (tokens - b.tokens) / rate_;
  *retry_after = absl::Milliseconds(std::ceil(wait_s * 1000));
  return false;
}

void TokenBuckets::Charge(absl::string_view key, double tokens) {
  absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) return;
  Refill(it->second, now);
  it->second.tokens = std::max(-burst_, it->second.tokens - tokens);
}

absl::Status StreamCounter::Open(absl::string_view key, absl::string_view what) {
  absl::MutexLock lock(&mu_);
  auto it = open_.find(key);
  int open = it == open_.end() ? 0 : it->second;
  if (open >= per_key_) {
    return absl::ResourceExhaustedError(absl::StrCat(
        what, " already has ", open,
        " open streams (the limit); close one, or retry in a few seconds"));
  }
  if (total_open_ >= total_) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the server already holds ", total_open_,
        " such streams (its limit); retry in a few seconds"));
  }
  if (it == open_.end()) it = open_.emplace(std::string(key), 0).first;
  ++it->second;
  ++total_open_;
  return absl::OkStatus();
}

void StreamCounter::Close(absl::string_view key) {
  absl::MutexLock lock(&mu_);
  auto it = open_.find(key);
  if (it == open_.end()) return;
  --total_open_;
  if (--it->second <= 0) open_.erase(it);
}

int StreamCounter::open() const {
  absl::MutexLock lock(&mu_);
  return total_open_;
}

RateLimiter::RateLimiter(const Clock* clock, LimitOptions options)
    : options_(options),
      members_(clock, options.requests_per_second, options.burst),
      addresses_(clock, options.address_requests_per_second,
                 options.address_burst),
      all_public_(clock, options.public_requests_per_second,
                  options.public_requests_per_second, 1),
      enroll_addresses_(clock, options.enrollments_per_minute_per_address / 60,
                        options.enrollments_per_minute_per_address),
      enroll_invites_(clock,
                      options.enrollment_attempts_per_invite_per_hour / 3600,
                      options.enrollment_attempts_per_invite_per_hour),
      member_streams_(options.max_streams_per_identity, 1 << 30),
      watch_streams_(options.max_watch_streams_per_address,
                     options.max_watch_streams) {}

absl::Status RateLimiter::Take(const std::string& name,
                               absl::Duration* retry_after, double tokens) {
  if (tokens > options_.burst) {
    return absl::InvalidArgumentError(absl::StrCat(
        "this request counts as ", tokens, " requests, more than the burst of ",
        options_.burst, " the server allows; split it into smaller ones"));
  }
  if (members_.Take(name, tokens, retry_after)) return absl::OkStatus();
  return Exhausted(absl::StrCat("rate limit of ", options_.requests_per_second,
                                " requests per second exceeded for ", name),
                   *retry_after);
}

void RateLimiter::Charge(const std::string& name, double tokens) {
  members_.Charge(name, tokens);
}

absl::Status RateLimiter::TakePublic(absl::string_view address,
                                     absl::Duration* retry_after) {
  if (!addresses_.Take(address, 1, retry_after)) {
    return Exhausted(
        absl::StrCat("too many requests without a session from ", address,
                     " (limit ", options_.address_requests_per_second,
                     " per second)"),
        *retry_after);
  }
  if (!all_public_.Take("", 1, retry_after)) {
    return Exhausted(
        absl::StrCat("the server is answering its limit of ",
                     options_.public_requests_per_second,
                     " requests per second without a session"),
        *retry_after);
  }
  return absl::OkStatus();
}

absl::Status RateLimiter::TakeEnrollment(absl::string_view address,
                                         absl::string_view invite_hash,
                                         absl::Duration* retry_after) {
  if (!enroll_addresses_.Take(address, 1, retry_after)) {
    return Exhausted(
        absl::StrCat("too many enrollment attempts from ", address, " (limit ",
                     options_.enrollments_per_minute_per_address,
                     " per minute)"),
        *retry_after);
  }
  if (!enroll_invites_.Take(invite_hash, 1, retry_after)) {
    return Exhausted(
        absl::StrCat("too many enrollment attempts with this invite (limit ",
                     options_.enrollment_attempts_per_invite_per_hour,
                     " per hour); check the name and key, or ask the admin "
                     "for a new invite"),
        *retry_after);
  }
  return absl::OkStatus();
}

absl::Status RateLimiter::OpenStream(const std::string& name) {
  return member_streams_.Open(name, name);
}

void RateLimiter::CloseStream(const std::string& name) {
  member_streams_.Close(name);
}

absl::Status RateLimiter::OpenWatchStream(absl::string_view address) {
  return watch_streams_.Open(address, address);
}

void RateLimiter::CloseWatchStream(absl::string_view address) {
  watch_streams_.Close(address);
}

std::string PeerAddressKey(absl::string_view peer) {
  absl::string_view rest = peer;
  if (absl::ConsumePrefix(&rest, "ipv4:")) {
    size_t colon = rest.rfind(':');
    return std::string(rest.substr(0, colon));
  }
  if (absl::ConsumePrefix(&rest, "ipv6:")) {
    // "[addr]:port"; gRPC writes the brackets percent-encoded
    // ("%5B::1%5D:5555") and a zone as "%25eth0".
    absl::string_view address = rest;
    if (absl::ConsumePrefix(&address, "[")) {
      address = address.substr(0, address.find(']'));
    } else if (absl::ConsumePrefix(&address, "%5B") ||
               absl::ConsumePrefix(&address, "%5b")) {
      address = address.substr(0, address.find('%'));
    }
    address = address.substr(0, address.find('%'));
    in6_addr a{};
    if (inet_pton(AF_INET6, std::string(address).c_str(), &a) != 1) {
      return std::string(peer);
    }
    static constexpr unsigned char kMappedPrefix[12] = {0, 0, 0, 0, 0,    0,
                                                        0, 0, 0, 0, 0xff, 0xff};
    char text[INET6_ADDRSTRLEN] = {};
    if (std::equal(kMappedPrefix, kMappedPrefix + 12, a.s6_addr)) {
      inet_ntop(AF_INET, a.s6_addr + 12, text, sizeof(text));
      return text;
    }
    std::fill(a.s6_addr + 8, a.s6_addr + 16, 0);
    inet_ntop(AF_INET6, &a, text, sizeof(text));
    return absl::StrCat(text, "/64");
  }
  return std::string(peer);
}

}  // namespace parley
