#ifndef PARLEY_TESTS_SERVER_NOTIFICATION_TEST_UTIL_H_
#define PARLEY_TESTS_SERVER_NOTIFICATION_TEST_UTIL_H_

// Helpers for parley.v1.Notifications tests over gRPC against an in-process
// parleyd (tests/server/server_test_util.h): members with organisations, the
// audience of a notification as PROTOCOL.md section 12 defines it, sealing
// notification versions and side envelopes, receipts, and calls.

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "crypto/envelope.h"
#include "crypto/receipt.h"
#include "parley/v1/notifications.grpc.pb.h"
#include "tests/server/server_test_util.h"

namespace parley::testing {

// A notification version the test sealed, with its metadata.
struct SealedVersion {
  v1::NotificationMetadata metadata;
  Sealed sealed;
  uint32_t version = 1;
};

// A running server with the deadline watcher off (tests call
// RunDueDeadlines), long sessions (the fake clock moves by hours), and a
// cast: admin; coordinators c1, c2 of "ocha" and x1 of "other"; mediators
// m1, m2; parties pa, pb, pc; observer obs.
class NotificationTest : public ServerTest {
 protected:
  void Configure(ServerConfig& config) override {
    config.run_deadline_watcher = false;
    config.session_ttl = absl::Hours(24 * 30);
  }

  void SetUp() override {
    ServerTest::SetUp();
    if (HasFatalFailure()) return;
    Cast();
  }

  // Override for a smaller cast.
  virtual void Cast() {
    AddMemberOf("c1", v1::ROLE_COORDINATOR, "ocha");
    AddMemberOf("c2", v1::ROLE_COORDINATOR, "ocha");
    AddMemberOf("x1", v1::ROLE_COORDINATOR, "other");
    AddMemberOf("m1", v1::ROLE_MEDIATOR, "");
    AddMemberOf("m2", v1::ROLE_MEDIATOR, "");
    AddMemberOf("pa", v1::ROLE_PARTY, "");
    AddMemberOf("pb", v1::ROLE_PARTY, "");
    AddMemberOf("pc", v1::ROLE_PARTY, "");
    AddMemberOf("obs", v1::ROLE_OBSERVER, "");
  }

  // Invites (with `organisation`), enrolls and signs in a member.
  Device& AddMemberOf(const std::string& name, v1::Role role,
                      const std::string& organisation) {
    if (!devices_.contains("admin")) EnrollAdmin();
    v1::Invite invite;
    {
      grpc::ClientContext context;
      Authorize(&context, device("admin"));
      v1::CreateInviteRequest r;
      r.set_role(role);
      r.set_name(name);
      r.set_organisation(organisation);
      grpc::Status s = admin_->CreateInvite(&context, r, &invite);
      EXPECT_TRUE(s.ok()) << Describe(s);
    }
    auto d = NewDevice(name);
    d->role = role;
    grpc::Status s = Enroll(EnrollRequestFor(*d, invite.code(), name));
    EXPECT_TRUE(s.ok()) << Describe(s);
    s = SignIn(*d);
    EXPECT_TRUE(s.ok()) << Describe(s);
    organisations_[name] = organisation;
    Device& ref = *d;
    devices_[name] = std::move(d);
    return ref;
  }

  // Signs every device in again (after a restart: sessions live in memory).
  void SignInAll() {
    for (auto& [name, d] : devices_) {
      grpc::Status s = SignIn(*d);
      EXPECT_TRUE(s.ok()) << name << ": " << Describe(s);
    }
  }

  // The audience as the test understands PROTOCOL.md section 12: the
  // parties, every mediator, the coordinators of the issuer's organisation.
  std::vector<std::string> Audience(const std::string& issuer,
                                    const std::vector<std::string>& parties) {
    std::set<std::string> out(parties.begin(), parties.end());
    out.insert(issuer);
    for (const auto& [name, d] : devices_) {
      if (d->role == v1::ROLE_MEDIATOR) out.insert(name);
      if (d->role == v1::ROLE_COORDINATOR &&
          OrganisationOf(name) == OrganisationOf(issuer)) {
        out.insert(name);
      }
    }
    return {out.begin(), out.end()};
  }
  std::string OrganisationOf(const std::string& name) const {
    auto it = organisations_.find(name);
    return it == organisations_.end() ? "" : it->second;
  }
  // The audience without the parties.
  std::vector<std::string> IssuerSide(const std::string& issuer) {
    return Audience(issuer, {});
  }

  // A movement departing `depart_in` from now, to be acknowledged
  // `ack_before_departure` before departure (0: no deadline).
  v1::NotificationMetadata Movement(const std::string& id,
                                    const std::vector<std::string>& parties,
                                    absl::Duration depart_in = absl::Hours(72),
                                    absl::Duration ack_before_departure =
                                        absl::Hours(24)) {
    v1::NotificationMetadata m;
    m.set_id(id);
    m.set_kind(v1::MOVEMENT);
    for (const std::string& p : parties) m.add_parties(p);
    const int64_t depart = absl::ToUnixSeconds(clock_.Now() + depart_in);
    m.set_depart_at(depart);
    if (ack_before_departure > absl::ZeroDuration()) {
      m.set_ack_by(depart - absl::ToInt64Seconds(ack_before_departure));
    }
    m.set_valid_from(depart);
    m.set_valid_until(depart + 3600 * 12);
    return m;
  }

  v1::NotificationMetadata Site(const std::string& id,
                                const std::vector<std::string>& parties) {
    v1::NotificationMetadata m;
    m.set_id(id);
    m.set_kind(v1::SITE);
    for (const std::string& p : parties) m.add_parties(p);
    m.set_valid_from(absl::ToUnixSeconds(clock_.Now()));
    return m;
  }

  // Seals version `version` of `metadata` as `issuer` to `recipients`
  // (default: the audience), chained after `previous` (empty: version 1).
  SealedVersion SealVersion(const std::string& issuer,
                            const v1::NotificationMetadata& metadata,
                            uint32_t version = 1,
                            const std::string& previous_envelope_hash = "",
                            std::optional<std::vector<std::string>>
                                recipients = std::nullopt) {
    SealOptions options;
    options.sequence = version - 1;
    options.previous_hash = previous_envelope_hash.empty()
                                ? std::string(32, '\0')
                                : previous_envelope_hash;
    options.content_type = "application/vnd.parley.movement+json";
    std::vector<std::string> parties(metadata.parties().begin(),
                                     metadata.parties().end());
    SealedVersion out;
    out.metadata = metadata;
    out.version = version;
    out.sealed = Seal(device(issuer), "n/" + metadata.id(),
                      absl::StrCat("{\"id\":\"", metadata.id(), "\",\"v\":",
                                   version, "}"),
                      recipients.value_or(Audience(issuer, parties)), options);
    return out;
  }

  // A side envelope (objection reason, cancellation, status) on `channel`.
  Sealed SealSide(const std::string& sender, const std::string& channel,
                  const std::string& payload,
                  const std::vector<std::string>& recipients) {
    SealOptions options;
    options.sequence = 0;
    options.previous_hash = std::string(32, '\0');
    return Seal(device(sender), channel, payload, recipients, options);
  }

  v1::Notifications::Stub& notifications() {
    // Tests call in from several threads at once: the stub is made once.
    absl::MutexLock lock(&notifications_mu_);
    if (notifications_channel_ != channel_.get()) {
      notifications_ = v1::Notifications::NewStub(channel_);
      notifications_channel_ = channel_.get();
    }
    return *notifications_;
  }

  grpc::Status Notify(const std::string& caller, const SealedVersion& v,
                      uint32_t supersedes = 0,
                      v1::NotifyResponse* response = nullptr) {
    grpc::ClientContext context;
    Authorize(&context, device(caller));
    v1::NotifyRequest r;
    *r.mutable_metadata() = v.metadata;
    r.set_envelope(v.sealed.bytes);
    r.set_supersedes(supersedes);
    v1::NotifyResponse ignored;
    return notifications().Notify(&context, r,
                                  response != nullptr ? response : &ignored);
  }

  // Seals version 1 to the audience and notifies it; returns the response
  // (fails the test otherwise).
  v1::NotifyResponse NotifyNew(const std::string& issuer,
                               const v1::NotificationMetadata& metadata,
                               SealedVersion* out = nullptr) {
    SealedVersion v = SealVersion(issuer, metadata);
    v1::NotifyResponse response;
    grpc::Status s = Notify(issuer, v, 0, &response);
    EXPECT_TRUE(s.ok()) << Describe(s);
    if (out != nullptr) *out = v;
    return response;
  }

  std::string SignedReceipt(const std::string& party,
                            const std::string& envelope_hash,
                            ReceiptLevel level,
                            const std::string& reason_hash = "") {
    absl::StatusOr<std::string> r =
        SignReceipt(device(party).identity, envelope_hash, level,
                    clock_.Now(), reason_hash);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : "";
  }

  grpc::Status Acknowledge(const std::string& caller, const std::string& id,
                           uint32_t version, const std::string& receipt,
                           const std::string& reason_envelope = "",
                           v1::AcknowledgeResponse* response = nullptr) {
    grpc::ClientContext context;
    Authorize(&context, device(caller));
    v1::AcknowledgeRequest r;
    r.set_id(id);
    r.set_version(version);
    r.set_receipt(receipt);
    r.set_reason_envelope(reason_envelope);
    v1::AcknowledgeResponse ignored;
    return notifications().Acknowledge(
        &context, r, response != nullptr ? response : &ignored);
  }

  // `party` acknowledges receipt of the version whose envelope hash is given.
  grpc::Status AckReceipt(const std::string& party, const std::string& id,
                          uint32_t version, const std::string& envelope_hash,
                          v1::AcknowledgeResponse* response = nullptr) {
    return Acknowledge(
        party, id, version,
        SignedReceipt(party, envelope_hash, ReceiptLevel::kAcknowledged), "",
        response);
  }

  // `party` objects, with a reason encrypted to `reason_recipients`
  // (default: the issuer side). Returns the reason envelope in `*reason`.
  grpc::Status Object(const std::string& party, const std::string& issuer,
                      const std::string& id, uint32_t version,
                      const std::string& envelope_hash,
                      Sealed* reason = nullptr,
                      std::optional<std::vector<std::string>>
                          reason_recipients = std::nullopt) {
    Sealed r = SealSide(party, "n/" + id + "/objection",
                        "the route crosses an active front line",
                        reason_recipients.value_or(IssuerSide(issuer)));
    if (reason != nullptr) *reason = r;
    return Acknowledge(party, id, version,
                       SignedReceipt(party, envelope_hash,
                                     ReceiptLevel::kObjected, r.hash),
                       r.bytes);
  }

  // `party`'s device logs a delivered receipt for the version at `index`.
  grpc::Status Deliver(const std::string& party, uint64_t index,
                       const std::string& envelope_hash) {
    v1::SubmitReceiptsResponse response;
    return SubmitReceipt(device(party), index,
                         DeliveredReceipt(device(party), envelope_hash),
                         &response);
  }

  grpc::Status Cancel(const std::string& caller, const std::string& id,
                      const Sealed& reason) {
    grpc::ClientContext context;
    Authorize(&context, device(caller));
    v1::CancelRequest r;
    r.set_id(id);
    r.set_reason_envelope(reason.bytes);
    v1::CancelResponse response;
    return notifications().Cancel(&context, r, &response);
  }

  grpc::Status PostStatus(const std::string& caller, const std::string& id,
                          const Sealed& envelope, bool final) {
    grpc::ClientContext context;
    Authorize(&context, device(caller));
    v1::PostStatusRequest r;
    r.set_id(id);
    r.set_envelope(envelope.bytes);
    r.set_final(final);
    v1::PostStatusResponse response;
    return notifications().PostStatus(&context, r, &response);
  }

  grpc::Status Get(const std::string& caller, const std::string& id,
                   v1::NotificationState* out) {
    grpc::ClientContext context;
    Authorize(&context, device(caller));
    v1::GetNotificationRequest r;
    r.set_id(id);
    v1::NotificationState ignored;
    return notifications().GetNotification(&context, r,
                                           out != nullptr ? out : &ignored);
  }

  // GetNotification that must succeed.
  v1::NotificationState MustGet(const std::string& caller,
                                const std::string& id) {
    v1::NotificationState state;
    grpc::Status s = Get(caller, id, &state);
    EXPECT_TRUE(s.ok()) << caller << " " << id << ": " << Describe(s);
    return state;
  }

  grpc::Status List(const std::string& caller,
                    v1::ListNotificationsResponse* out) {
    grpc::ClientContext context;
    Authorize(&context, device(caller));
    return notifications().ListNotifications(&context, {}, out);
  }

  static const v1::PartyState* PartyOf(const v1::NotificationState& state,
                                       const std::string& party) {
    for (const v1::PartyState& p : state.parties()) {
      if (p.party() == party) return &p;
    }
    return nullptr;
  }

  // Entry `index` read through Log/GetEntries (as the admin).
  LogEntry EntryAt(uint64_t index) {
    grpc::ClientContext context;
    Authorize(&context, device("admin"));
    v1::GetEntriesRequest r;
    r.set_start(index);
    r.set_end(index + 1);
    v1::GetEntriesResponse response;
    grpc::Status s = log_->GetEntries(&context, r, &response);
    EXPECT_TRUE(s.ok()) << Describe(s);
    if (response.entries_size() != 1) {
      ADD_FAILURE() << "no entry at " << index;
      return {};
    }
    absl::StatusOr<LogEntry> entry =
        DecodeLogEntry(response.entries(0).data());
    EXPECT_TRUE(entry.ok()) << entry.status();
    return entry.ok() ? *entry : LogEntry{};
  }

  // Entries in [start, end) of the given body type.
  template <typename Body>
  std::vector<std::pair<uint64_t, Body>> EntriesOf(uint64_t start,
                                                   uint64_t end) {
    std::vector<std::pair<uint64_t, Body>> out;
    for (uint64_t i = start; i < end; ++i) {
      LogEntry e = EntryAt(i);
      if (const auto* b = std::get_if<Body>(&e.body)) out.emplace_back(i, *b);
    }
    return out;
  }

  std::map<std::string, std::string> organisations_;
  std::unique_ptr<v1::Notifications::Stub> notifications_;
  absl::Mutex notifications_mu_;
  grpc::Channel* notifications_channel_ = nullptr;
};

}  // namespace parley::testing

#endif  // PARLEY_TESTS_SERVER_NOTIFICATION_TEST_UTIL_H_
