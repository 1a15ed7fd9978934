#include "client/core/recipients.h"

#include "absl/strings/str_cat.h"
#include "client/core/retry.h"

namespace parley {
namespace {

// How long a verified bundle (and a listed directory) is reused.
constexpr absl::Duration kRecentBundleLifetime = absl::Minutes(1);

}  // namespace

absl::Status CannotSealOffline(const std::string& what,
                               const absl::Status& cause) {
  return absl::UnavailableError(absl::StrCat(
      cause.message(), "; and this device cannot seal offline: it has ", what,
      ". Nothing was queued. Run `parley sync` while the server is reachable "
      "so that later sends can be queued offline"));
}

bool RecipientResolver::Fresh(absl::Time verified_at) const {
  return hold_ || clock_.Now() - verified_at < kRecentBundleLifetime;
}

void RecipientResolver::Remember(const std::vector<v1::Member>& members) {
  recent_members_.emplace(clock_.Now(), members);
}

void RecipientResolver::Forget() {
  recent_members_.reset();
  recent_bundles_.clear();
}

absl::StatusOr<std::vector<v1::Member>> RecipientResolver::Members(
    Reach& reach) {
  if (reach.online()) {
    if (recent_members_.has_value() && Fresh(recent_members_->first)) {
      return recent_members_->second;
    }
    absl::StatusOr<std::vector<v1::Member>> members = server_.list_members();
    if (members.ok()) Remember(*members);
    if (members.ok() || !IsTransient(members.status())) return members;
    reach.MarkOffline(members.status());
  }
  const absl::Status& cause = reach.offline_cause();
  if (require_online_) {
    return absl::UnavailableError(absl::StrCat(
        cause.message(), "; not sent and not queued (--require-online)"));
  }
  if (state_.cached_members().empty()) {
    return absl::UnavailableError(absl::StrCat(
        cause.message(),
        "; and this device cannot seal offline: it has never seen the member "
        "directory. Nothing was queued. Run `parley sync` while the server "
        "is reachable so that later work can be queued offline"));
  }
  std::vector<v1::Member> members;
  for (const CachedMember& c : state_.cached_members()) {
    v1::Member m;
    m.set_name(c.name);
    m.set_role(static_cast<v1::Role>(c.role));
    m.set_organisation(c.organisation);
    m.set_revoked(c.revoked);
    members.push_back(std::move(m));
  }
  return members;
}

absl::StatusOr<std::vector<EnvelopeRecipient>> RecipientResolver::Recipients(
    const std::vector<std::string>& names, const Reach& reach) {
  auto to_recipient = [](const KeyBundle& b) {
    return EnvelopeRecipient{b.identity_public_key, b.signed_prekey,
                             std::nullopt};
  };
  auto cached = [this](const std::string& name, const absl::Status& cause) {
    return name == own_name_ ? absl::StatusOr<KeyBundle>(own_bundle_())
                             : CachedBundle(name, cause);
  };
  std::vector<EnvelopeRecipient> recipients;
  for (const std::string& name : names) {
    if (absl::Status s = state_.CheckSendable(name); !s.ok()) return s;
    if (!reach.online()) {
      absl::StatusOr<KeyBundle> bundle = cached(name, reach.offline_cause());
      if (!bundle.ok()) return bundle.status();
      recipients.push_back(to_recipient(*bundle));
      continue;
    }
    // A bundle verified moments ago by this device is not asked for again.
    auto recent = recent_bundles_.find(name);
    if (recent != recent_bundles_.end() && Fresh(recent->second.first)) {
      recipients.push_back(to_recipient(recent->second.second));
      continue;
    }
    absl::StatusOr<KeyBundle> bundle = server_.fetch_bundle(name);
    if (!bundle.ok() && IsTransient(bundle.status()) && !require_online_) {
      // The server stopped answering midway: the verified cache will do.
      absl::StatusOr<KeyBundle> fallback = cached(name, bundle.status());
      if (!fallback.ok()) return fallback.status();
      recipients.push_back(to_recipient(*fallback));
      continue;
    }
    if (!bundle.ok()) {
      return absl::Status(bundle.status().code(),
                          absl::StrCat("cannot encrypt to ", name, ": ",
                                       bundle.status().message()));
    }
    recent_bundles_[name] = {clock_.Now(), *bundle};
    if (absl::Status s = state_.CheckSendable(name); !s.ok()) return s;
    recipients.push_back(to_recipient(*bundle));
  }
  return recipients;
}

absl::StatusOr<KeyBundle> RecipientResolver::CachedBundle(
    const std::string& member, const absl::Status& offline_cause) {
  std::optional<std::string> cached = state_.CachedKeyBundle(member);
  if (!cached.has_value()) {
    return CannotSealOffline(absl::StrCat("no verified key of ", member),
                             offline_cause);
  }
  absl::StatusOr<KeyBundle> parsed = ParseKeyBundle(*cached);
  if (!parsed.ok()) return parsed.status();
  std::optional<Contact> contact = state_.FindContact(member);
  if (!contact.has_value() ||
      contact->identity_key != parsed->identity_public_key) {
    return CannotSealOffline(
        absl::StrCat("no current verified key of ", member), offline_cause);
  }
  if (absl::Status v = VerifyKeyBundleAt(*parsed, clock_.Now()); !v.ok()) {
    return CannotSealOffline(absl::StrCat("only an expired key of ", member,
                                          " (", v.message(), ")"),
                             offline_cause);
  }
  return parsed;
}

}  // namespace parley
