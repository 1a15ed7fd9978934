#ifndef PARLEY_SERVER_RATE_LIMIT_H_
#define PARLEY_SERVER_RATE_LIMIT_H_

#include <cstddef>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "crypto/clock.h"

namespace parley {

struct LimitOptions {
  // Members (calls with a session), per identity.
  double requests_per_second = 50;  // token refill rate per identity
  double burst = 200;               // bucket size
  int max_streams_per_identity = 4;
  int max_channel_members = 50;

  // Calls without a session (Info, checkpoints, consistency proofs,
  // GetChallenge, Authenticate, Enroll), per peer address (an IPv4 address,
  // or an IPv6 /64) and for all addresses together. A call that does carry a
  // valid session is counted against its member instead.
  double address_requests_per_second = 50;
  double address_burst = 500;
  double public_requests_per_second = 5000;  // all addresses; burst the same
  // Open WatchCheckpoints streams.
  int max_watch_streams_per_address = 16;
  int max_watch_streams = 512;
  // Enroll, on top of the public limit: attempts per address per minute
  // (also the burst), and attempts per invite per hour (also the burst).
  double enrollments_per_minute_per_address = 30;
  double enrollment_attempts_per_invite_per_hour = 10;
  // Unanswered sign-in challenges per identity key (each lives 60 s).
  int max_pending_challenges_per_identity = 16;
  // A call refused by any of these limits is answered after this delay
  // (server/refusal_pacer.h), so a flood of refused calls cannot cost the
  // server more than the flood's concurrency allows.
  absl::Duration refusal_delay = absl::Milliseconds(250);
};

// Token buckets keyed by a string, on an injected clock: each key may take
// `rate` tokens a second on average and `burst` at once. Memory is bounded:
// when the map holds more than `max_keys` buckets, full ones (which are
// indistinguishable from absent ones) are dropped; if none is full the
// request is refused rather than the map grown. Thread-safe.
class TokenBuckets {
 public:
  TokenBuckets(const Clock* clock, double rate, double burst,
               size_t max_keys = 100000)
      : clock_(clock), rate_(rate), burst_(burst), max_keys_(max_keys) {}

  // Takes `tokens` from `key`'s bucket. On refusal returns false and sets
  // *retry_after to the wait until they would be there.
  bool Take(absl::string_view key, double tokens, absl::Duration* retry_after);
  // Takes `tokens` from an existing bucket of `key` even if it holds fewer
  // (down to minus the burst): for work whose cost is known only after it
  // was done. The debt delays the key's next calls.
  void Charge(absl::string_view key, double tokens);

  double rate() const { return rate_; }
  double burst() const { return burst_; }

 private:
  struct Bucket {
    double tokens;
    absl::Time updated;
  };
  double Refill(Bucket& b, absl::Time now) const;

  const Clock* const clock_;
  const double rate_;
  const double burst_;
  const size_t max_keys_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Bucket> buckets_ ABSL_GUARDED_BY(mu_);
};

// Counts of open streams per key, under a per-key and a total cap.
// Thread-safe.
class StreamCounter {
 public:
  StreamCounter(int per_key, int total) : per_key_(per_key), total_(total) {}
  // ResourceExhausted (naming `what`) over either cap; otherwise counts one.
  absl::Status Open(absl::string_view key, absl::string_view what);
  void Close(absl::string_view key);
  int open() const;

 private:
  const int per_key_;
  const int total_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, int> open_ ABSL_GUARDED_BY(mu_);
  int total_open_ ABSL_GUARDED_BY(mu_) = 0;
};

// Every admission limit of the server, on the injected clock. Refusals are
// ResourceExhausted with "retry in N ms" and *retry_after set (callers send
// it as the trailing metadata "retry-after-ms"), except that a request larger
// than a whole burst is InvalidArgument: no wait would help. Thread-safe.
class RateLimiter {
 public:
  RateLimiter(const Clock* clock, LimitOptions options);

  // A member's call: `tokens` tokens for `name` (one per request; a batch
  // takes one per item).
  absl::Status Take(const std::string& name, absl::Duration* retry_after,
                    double tokens = 1.0);
  // Charges `name` for work already done beyond the token its call took
  // (TokenBuckets::Charge): a Log/GetEntries page costs one token more per
  // kReadBytesPerToken of entries.
  void Charge(const std::string& name, double tokens);
  static constexpr size_t kReadBytesPerToken = 64 * 1024;

  // A call without a session from `address` (see PeerAddressKey): one token
  // from the address's bucket, then one from the bucket all such calls
  // share.
  absl::Status TakePublic(absl::string_view address,
                          absl::Duration* retry_after);

  // An enrollment attempt from `address` for the invite with `invite_hash`
  // (on top of TakePublic).
  absl::Status TakeEnrollment(absl::string_view address,
                              absl::string_view invite_hash,
                              absl::Duration* retry_after);

  // Counts an open Subscribe stream; ResourceExhausted over the cap.
  // Release with CloseStream when the stream ends.
  absl::Status OpenStream(const std::string& name);
  void CloseStream(const std::string& name);

  // The same for WatchCheckpoints streams, per address and in all.
  absl::Status OpenWatchStream(absl::string_view address);
  void CloseWatchStream(absl::string_view address);

  const LimitOptions& options() const { return options_; }

 private:
  const LimitOptions options_;
  TokenBuckets members_;
  TokenBuckets addresses_;
  TokenBuckets all_public_;
  TokenBuckets enroll_addresses_;
  TokenBuckets enroll_invites_;
  StreamCounter member_streams_;
  StreamCounter watch_streams_;
};

// The key a peer is limited under, from gRPC's peer string: the IPv4 address
// ("ipv4:192.0.2.7:5555" -> "192.0.2.7"), the /64 of an IPv6 address (one
// host usually holds a whole /64: "ipv6:[2001:db8:1:2::9]:5555" ->
// "2001:db8:1:2::/64"; an IPv4-mapped address counts as IPv4), or the
// string unchanged for anything else (unix sockets, in-process).
std::string PeerAddressKey(absl::string_view grpc_peer);

}  // namespace parley

#endif  // PARLEY_SERVER_RATE_LIMIT_H_
