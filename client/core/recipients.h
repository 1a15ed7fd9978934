#ifndef PARLEY_CLIENT_CORE_RECIPIENTS_H_
#define PARLEY_CLIENT_CORE_RECIPIENTS_H_

// Whom a device seals to, and with which keys: the member directory and
// each recipient's key bundle, verified against the log while the server
// can be reached, or taken from what this device cached and verified when
// it last could (so that work can be sealed and queued offline).

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/core/local_state.h"
#include "crypto/clock.h"
#include "crypto/envelope.h"
#include "crypto/prekey.h"
#include "parley/v1/identity.pb.h"

namespace parley {

// Whether one operation still talks to the server and, once it does not,
// why: the message every "could not seal offline" error starts with.
class Reach {
 public:
  // Online until MarkOffline.
  Reach() = default;
  static Reach Offline(absl::Status cause) {
    Reach r;
    r.MarkOffline(std::move(cause));
    return r;
  }

  bool online() const { return cause_.ok(); }
  // OK while online.
  const absl::Status& offline_cause() const { return cause_; }
  // REQUIRES: !cause.ok().
  void MarkOffline(absl::Status cause) { cause_ = std::move(cause); }

 private:
  absl::Status cause_;
};

// The Unavailable error for work that cannot be sealed offline because this
// device lacks `what` ("never seen the member directory", ...), after
// `cause` (why the server could not be reached). Nothing is queued.
absl::Status CannotSealOffline(const std::string& what,
                               const absl::Status& cause);

// The directory and key bundles to seal with. Reuses what it verified for a
// minute (a batch of notifications seals to the same audience hundreds of
// times), or for as long as a hold lasts. Not thread-safe; one per Device.
class RecipientResolver {
 public:
  // What the device asks the server for (both authenticated, verified).
  struct Server {
    // The member directory (Directory/ListMembers), cached in LocalState.
    std::function<absl::StatusOr<std::vector<v1::Member>>()> list_members;
    // `name`'s key bundle, verified against the log (FetchVerifiedBundle).
    std::function<absl::StatusOr<KeyBundle>(const std::string& name)>
        fetch_bundle;
  };

  // `state` and `clock` must outlive the resolver. `own_name` and
  // `own_bundle` are this device's: it seals to itself from its keys.
  RecipientResolver(LocalState& state, const Clock& clock,
                    std::string own_name,
                    std::function<KeyBundle()> own_bundle,
                    bool require_online, Server server)
      : state_(state),
        clock_(clock),
        own_name_(std::move(own_name)),
        own_bundle_(std::move(own_bundle)),
        require_online_(require_online),
        server_(std::move(server)) {}

  // The directory's members: from the server while `reach` is online (a
  // transient failure marks it offline, with the cause), else from the
  // cache. Unavailable with require_online, or without a cache.
  absl::StatusOr<std::vector<v1::Member>> Members(Reach& reach);

  // Key bundles of `names`, each sendable (LocalState::CheckSendable):
  // verified against the log now while `reach` is online (falling back to
  // the cache if the server stops answering midway), else the bundles
  // cached when online (Unavailable naming the member otherwise).
  absl::StatusOr<std::vector<EnvelopeRecipient>> Recipients(
      const std::vector<std::string>& names, const Reach& reach);

  // `member`'s bundle as cached and verified when online: it must still be
  // the member's current verified key and unexpired. Unavailable
  // (CannotSealOffline, after `offline_cause`) otherwise.
  absl::StatusOr<KeyBundle> CachedBundle(const std::string& member,
                                         const absl::Status& offline_cause);

  // Reuses `members`, just listed from the server (ListDirectory), for the
  // sealing that follows.
  void Remember(const std::vector<v1::Member>& members);
  // While held (NotifyBatch), verified material does not expire. Returns
  // the previous setting.
  bool Hold(bool hold) { return std::exchange(hold_, hold); }
  // Forgets what was verified (the server said the audience changed).
  void Forget();

 private:
  bool Fresh(absl::Time verified_at) const;

  LocalState& state_;
  const Clock& clock_;
  const std::string own_name_;
  const std::function<KeyBundle()> own_bundle_;
  const bool require_online_;
  const Server server_;
  bool hold_ = false;
  std::map<std::string, std::pair<absl::Time, KeyBundle>> recent_bundles_;
  std::optional<std::pair<absl::Time, std::vector<v1::Member>>>
      recent_members_;
};

}  // namespace parley

#endif  // PARLEY_CLIENT_CORE_RECIPIENTS_H_
