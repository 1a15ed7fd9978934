#include "client/deconfliction/proof_bundle.h"

#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <memory>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "crypto/ed25519.h"
#include "crypto/encoding.h"
#include "crypto/envelope.h"
#include "crypto/prekey.h"
#include "crypto/random.h"
#include "crypto/receipt.h"
#include "crypto/statements.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "storage/tlog/checkpoint.h"
#include "storage/tlog/log_entry.h"
#include "storage/tlog/merkle.h"
#include "storage/tlog/note.h"
#include "tests/testing/status_matchers.h"

namespace parley {
namespace {

using ::testing::HasSubstr;
using nlohmann::json;

constexpr char kOrigin[] = "parley.test/log";
constexpr int64_t kT0 = 1'790'000'000;  // Unix seconds

struct Member {
  std::string name;
  MemberRole role;
  std::unique_ptr<Ed25519PrivateKey> key;
  KeyBundle bundle;
};

// A log built in memory: real entries, signatures and Merkle proofs, a
// checkpoint signed with a test log key. No RocksDB, no server.
class TestLog {
 public:
  TestLog() : random_(NewDeterministicRandom("proof-bundle-test")) {
    EXPECT_TRUE(InitCrypto().ok());
    log_key_ = std::make_unique<Ed25519PrivateKey>(
        Ed25519PrivateKey::Generate(*random_));
  }

  // `tweak` may change the key bundle before it is registered (signed
  // with the member's key all the same).
  Member& Register(const std::string& name, MemberRole role,
                   const std::function<void(Member&)>& tweak = nullptr) {
    Member m{name, role,
             std::make_unique<Ed25519PrivateKey>(
                 Ed25519PrivateKey::Generate(*random_)),
             {}};
    m.bundle = NewBundle(*m.key, 1);
    if (tweak) tweak(m);
    std::string bundle = SerializeKeyBundle(m.bundle);
    std::string invite_hash(32, static_cast<char>(name[0]));
    MemberRegistered r{name, role, "Org of " + name, invite_hash, bundle,
                       m.key->Sign(EnrollStatement(invite_hash, name, bundle))};
    registration_[name] = Append(r);
    members_[name] = std::move(m);
    return members_[name];
  }

  uint64_t Rotate(const std::string& name) {
    Member& m = members_[name];
    m.bundle = NewBundle(*m.key, 2);
    std::string bundle = SerializeKeyBundle(m.bundle);
    return Append(KeyBundlePublished{name, bundle,
                                     m.key->Sign(RotateStatement(name, bundle))});
  }

  std::string Seal(const std::string& sender, const std::string& channel,
                   uint64_t sequence, const std::string& previous,
                   const std::vector<std::string>& to,
                   const std::string& content_type = "application/json") {
    std::vector<EnvelopeRecipient> recipients;
    for (const std::string& name : to) {
      const Member& m = members_[name];
      recipients.push_back({m.key->public_key(), m.bundle.signed_prekey, {}});
    }
    EnvelopeMetadata md;
    md.channel_id = channel;
    md.client_message_id = random_->Bytes(16);
    md.sequence = sequence;
    md.previous_hash = previous.empty() ? std::string(32, '\0') : previous;
    md.created_at = kT0 + 100;
    md.content_type = content_type;
    auto env = SealEnvelope(*members_[sender].key, md, recipients,
                            "{\"secret\": true}", *random_);
    EXPECT_TRUE(env.ok()) << env.status();
    return *env;
  }

  std::string SignReceiptAs(const std::string& name,
                            const std::string& envelope, ReceiptLevel level,
                            const std::string& reason_hash = "") {
    auto r = SignReceipt(*members_[name].key, EnvelopeHash(envelope), level,
                         absl::FromUnixSeconds(kT0 + 200), reason_hash);
    EXPECT_TRUE(r.ok()) << r.status();
    return *r;
  }

  uint64_t Append(EntryBody body) {
    LogEntry e{(kT0 + static_cast<int64_t>(leaves_.size())) * 1000 + 250,
               std::move(body)};
    leaves_.push_back(EncodeLogEntry(e));
    return leaves_.size() - 1;
  }

  std::string VerifierKey() const {
    return *FormatVerifierKey(kOrigin, log_key_->public_key());
  }

  std::string Checkpoint() const {
    std::vector<std::string> hashes;
    for (const std::string& l : leaves_) hashes.push_back(LeafHash(l));
    std::string body = FormatCheckpoint(
        {kOrigin, leaves_.size(), RootFromLeafHashes(hashes), {}});
    return *SignNote(body, kOrigin, *log_key_);
  }

  ProofBundleEntry Entry(uint64_t index) const {
    std::vector<std::string> hashes;
    for (const std::string& l : leaves_) hashes.push_back(LeafHash(l));
    auto read = [&](int level, uint64_t i) -> absl::StatusOr<std::string> {
      uint64_t begin = i << level, end = (i + 1) << level;
      return RootFromLeafHashes(std::vector<std::string>(
          hashes.begin() + begin, hashes.begin() + end));
    };
    auto proof = BuildInclusionProof(index, leaves_.size(), read);
    EXPECT_TRUE(proof.ok());
    TlogProof t{std::nullopt, index, *proof, Checkpoint()};
    return {index, leaves_[index], FormatTlogProof(t)};
  }

  // A prekey of `kind` signed by `key`, valid for 7 days from kT0.
  SignedPrekey NewPrekey(const Ed25519PrivateKey& key, PrekeyKind kind,
                         uint32_t id) {
    auto p = GeneratePrekey(key, kind, id, absl::FromUnixSeconds(kT0),
                            absl::Hours(24 * 7), *random_);
    EXPECT_TRUE(p.ok()) << p.status();
    return p->prekey;
  }

  // Every entry, as the server would hand them out.
  std::vector<ProofBundleEntry> AllEntries() const {
    std::vector<ProofBundleEntry> out;
    for (uint64_t i = 0; i < leaves_.size(); ++i) out.push_back(Entry(i));
    return out;
  }

  // The bundle JSON without BuildProofBundle's own verification, so that
  // a verifier can be shown a bundle the builder would refuse.
  std::string UncheckedBundle(const std::vector<ProofBundleEntry>& entries,
                              const std::vector<ProofBundleIdentity>& ids)
      const {
    json j = {{"format", "parley-proof/v1"},
              {"verifier_key", VerifierKey()},
              {"checkpoint", Checkpoint()},
              {"entries", json::array()},
              {"identities", json::array()}};
    for (const ProofBundleEntry& e : entries) {
      j["entries"].push_back(
          {{"kind", std::string(EntryTypeName(*PeekEntryType(e.leaf)))},
           {"index", e.index},
           {"leaf", Base64Encode(e.leaf)},
           {"tlog_proof", e.tlog_proof}});
    }
    for (const ProofBundleIdentity& id : ids) {
      j["identities"].push_back({{"name", id.name},
                                 {"role", id.role},
                                 {"identity_key", Base64Encode(id.identity_key)},
                                 {"registration_index", id.registration_index}});
    }
    return j.dump(1);
  }

  uint64_t registration(const std::string& name) { return registration_[name]; }
  Member& member(const std::string& name) { return members_[name]; }
  const std::vector<std::string>& leaves() const { return leaves_; }

 private:
  KeyBundle NewBundle(const Ed25519PrivateKey& key, uint32_t id) {
    auto spk = GeneratePrekey(key, PrekeyKind::kSigned, id,
                              absl::FromUnixSeconds(kT0), absl::Hours(24 * 7),
                              *random_);
    EXPECT_TRUE(spk.ok());
    return KeyBundle{key.public_key(), spk->prekey, {}};
  }

  std::unique_ptr<Random> random_;
  std::unique_ptr<Ed25519PrivateKey> log_key_;
  std::map<std::string, Member> members_;
  std::map<std::string, uint64_t> registration_;
  std::vector<std::string> leaves_;
};

class ProofBundleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(InitCrypto());
    log_.Register("alice", MemberRole::kCoordinator);
    log_.Register("bob", MemberRole::kParty);
    log_.Register("carol", MemberRole::kParty);
    filler_ = log_.Append(ChannelCreated{"ops", "alice", {"alice", "bob"}});
    std::vector<std::string> audience = {"alice", "bob", "carol"};
    std::string v1 = log_.Seal("alice", "n/mv-1", 0, "", audience,
                               "application/vnd.parley.movement+json");
    NotificationVersion nv{"mv-1", 1, NotificationKind::kMovement, "alice",
                           {"bob", "carol"}, kT0 + 3 * 86400, kT0 + 2 * 86400,
                           kT0 + 3 * 86400, kT0 + 4 * 86400, 0, 172800, v1};
    v1_index_ = log_.Append(nv);
    log_.Append(ReceiptEntry{v1_index_, "bob",
                             log_.SignReceiptAs("bob", v1,
                                                ReceiptLevel::kDelivered)});
    log_.Append(NotificationAck{"mv-1", 1, "bob",
                                log_.SignReceiptAs("bob", v1,
                                                   ReceiptLevel::kAcknowledged),
                                ""});
    log_.Append(Escalation{"mv-1", 1, "carol", EscalationStep::kEscalation,
                           kT0 + 2 * 86400});
    std::string v2 = log_.Seal("alice", "n/mv-1", 1, EnvelopeHash(v1), audience,
                               "application/vnd.parley.movement+json");
    nv.version = 2;
    nv.flags = kNotificationEmergency | kNotificationLate;
    nv.envelope = v2;
    uint64_t v2_index = log_.Append(nv);
    log_.Append(ReceiptEntry{v2_index, "carol",
                             log_.SignReceiptAs("carol", v2,
                                                ReceiptLevel::kDelivered)});
    std::string reason = log_.Seal("carol", "n/mv-1/objection", 0, "",
                                   {"alice", "carol"});
    log_.Append(NotificationAck{
        "mv-1", 2, "carol",
        log_.SignReceiptAs("carol", v2, ReceiptLevel::kObjected,
                           EnvelopeHash(reason)),
        reason});
    bob_rotation_ = log_.Rotate("bob");
    log_.Append(NotificationAck{"mv-1", 2, "bob",
                                log_.SignReceiptAs("bob", v2,
                                                   ReceiptLevel::kAcknowledged),
                                ""});
    log_.Append(NotificationStatus{
        "mv-1", 2, "alice", true,
        log_.Seal("alice", "n/mv-1/status", 0, "", audience)});
    log_.Append(NotificationCancelled{
        "mv-1", 2, "alice",
        log_.Seal("alice", "n/mv-1/cancel", 0, "", audience)});
    log_.Append(ChannelCreated{"later", "alice", {"alice", "carol"}});
  }

  std::vector<ProofBundleEntry> Entries() const {
    std::vector<ProofBundleEntry> out;
    for (uint64_t i = 0; i < log_.leaves().size() - 1; ++i) {
      if (i != filler_) out.push_back(log_.Entry(i));
    }
    return out;
  }

  std::string Bundle() {
    auto ids = IdentitiesFromEntries(Entries());
    EXPECT_TRUE(ids.ok()) << ids.status();
    auto b = BuildProofBundle(log_.VerifierKey(), log_.Checkpoint(), Entries(),
                              *ids);
    EXPECT_TRUE(b.ok()) << b.status();
    return *b;
  }

  // Every entry of the log but the filler, the last one included.
  std::string BundleOfAll() {
    std::vector<ProofBundleEntry> entries;
    for (const ProofBundleEntry& e : log_.AllEntries()) {
      if (e.index != filler_) entries.push_back(e);
    }
    auto ids = IdentitiesFromEntries(entries);
    EXPECT_TRUE(ids.ok()) << ids.status();
    auto b = BuildProofBundle(log_.VerifierKey(), log_.Checkpoint(), entries,
                              *ids);
    EXPECT_TRUE(b.ok()) << b.status();
    return b.ok() ? *b : "";
  }

  // The envelope of the notification version logged at `index`.
  std::string EnvelopeOf(uint64_t index) const {
    auto e = DecodeLogEntry(log_.leaves()[index]);
    EXPECT_TRUE(e.ok());
    return std::get<NotificationVersion>(e->body).envelope;
  }

  TestLog log_;
  uint64_t filler_ = 0;
  uint64_t v1_index_ = 0;
  uint64_t bob_rotation_ = 0;
};

TEST_F(ProofBundleTest, BuildsAndVerifiesWithAReport) {
  std::string bundle = Bundle();
  json j = json::parse(bundle);
  EXPECT_EQ(j["format"], "parley-proof/v1");
  EXPECT_EQ(j["entries"].size(), log_.leaves().size() - 2);
  EXPECT_EQ(j["entries"][0]["kind"], "member-registered");
  EXPECT_EQ(j["identities"].size(), 4u);  // bob twice: enrol and rotation

  ProofBundleVerifyOptions pinned;
  pinned.expected_verifier_key = log_.VerifierKey();
  ASSERT_OK_AND_ASSIGN(ProofReport r, VerifyProofBundle(bundle, pinned));
  EXPECT_TRUE(r.verifier_key_pinned);
  EXPECT_EQ(r.origin, kOrigin);
  EXPECT_EQ(r.tree_size, log_.leaves().size());
  ASSERT_EQ(r.versions.size(), 2u);
  const VersionReport& v1 = r.versions[0];
  EXPECT_EQ(v1.version, 1u);
  ASSERT_EQ(v1.progress.size(), 2u);
  EXPECT_EQ(v1.progress[0].party, "bob");
  EXPECT_TRUE(v1.progress[0].delivered_index.has_value());
  EXPECT_TRUE(v1.progress[0].answer_index.has_value());
  EXPECT_FALSE(v1.progress[0].objected);
  EXPECT_FALSE(v1.progress[1].answer_index.has_value());
  EXPECT_EQ(v1.progress[1].escalation, 2);
  const VersionReport& v2 = r.versions[1];
  EXPECT_TRUE(v2.emergency);
  EXPECT_TRUE(v2.late);
  EXPECT_TRUE(v2.progress[1].objected);
  EXPECT_FALSE(v2.progress[0].delivered_index.has_value());
  EXPECT_TRUE(v2.progress[0].answer_index.has_value());

  EXPECT_THAT(r.text, HasSubstr("bob acknowledged receipt of mv-1 version 1"));
  EXPECT_THAT(r.text, HasSubstr("carol objected to mv-1 version 2"));
  EXPECT_THAT(r.text, HasSubstr("alice cancelled mv-1 version 2"));
  EXPECT_THAT(r.text, HasSubstr("escalation for carol on mv-1 version 1"));
  EXPECT_THAT(r.text, HasSubstr("LATE"));
  EXPECT_THAT(r.text, HasSubstr("logged 2026-"));
  EXPECT_THAT(r.text, HasSubstr(".250Z"));  // logged_at_ms precision
  for (const char* word : {"approved", "cleared", " safe"}) {
    EXPECT_THAT(r.text, Not(HasSubstr(word)));
  }

  if (getenv("PARLEY_PRINT_REPORT") != nullptr) std::cout << r.text;
  ASSERT_OK_AND_ASSIGN(ProofReport unpinned, VerifyProofBundle(bundle));
  EXPECT_FALSE(unpinned.verifier_key_pinned);
  EXPECT_THAT(unpinned.text, HasSubstr("NOT compared"));
}

TEST_F(ProofBundleTest, SiteReviewDueIsReportedAsTheIssuersReminder) {
  // A site logged at kT0 + n s, due for review a second later, and the
  // server's review-due escalation (step 4) at that second.
  const int64_t n = static_cast<int64_t>(log_.leaves().size());
  const int64_t review_by = kT0 + n + 1;
  std::string env = log_.Seal("alice", "n/site-1", 0, "",
                              {"alice", "bob", "carol"},
                              "application/vnd.parley.site+json");
  const uint64_t site_index = log_.Append(NotificationVersion{
      "site-1", 1, NotificationKind::kSite, "alice", {"bob", "carol"}, 0, 0,
      kT0, review_by, 0, 0, env});
  const uint64_t due = log_.Append(Escalation{
      "site-1", 1, "alice", EscalationStep::kReviewDue, review_by});
  std::vector<ProofBundleEntry> entries;
  for (uint64_t i = 0; i < log_.leaves().size(); ++i) {
    if (i != filler_) entries.push_back(log_.Entry(i));
  }
  ASSERT_OK_AND_ASSIGN(std::vector<ProofBundleIdentity> ids,
                       IdentitiesFromEntries(entries));
  ASSERT_OK_AND_ASSIGN(std::string bundle,
                       BuildProofBundle(log_.VerifierKey(), log_.Checkpoint(),
                                        entries, ids));
  ASSERT_OK_AND_ASSIGN(ProofReport r, VerifyProofBundle(bundle));
  const VersionReport* site = nullptr;
  for (const VersionReport& v : r.versions) {
    if (v.id == "site-1") site = &v;
  }
  ASSERT_NE(site, nullptr);
  EXPECT_EQ(site->index, site_index);
  EXPECT_FALSE(site->movement);
  ASSERT_TRUE(site->review_due_index.has_value());
  EXPECT_EQ(*site->review_due_index, due);
  // Not a party's escalation: every party's step stays 0.
  for (const PartyProgressReport& p : site->progress) {
    EXPECT_EQ(p.escalation, 0) << p.party;
  }
  const std::string when = absl::FormatTime(
      "%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(review_by),
      absl::UTCTimeZone());
  EXPECT_THAT(r.text, HasSubstr(absl::StrCat(
                          "review due: alice is asked to review site site-1 "
                          "version 1 (review-by ",
                          when, ")")));
  EXPECT_THAT(r.text, HasSubstr(absl::StrCat("  review by ", when, "\n")));
  EXPECT_THAT(r.text, HasSubstr(absl::StrCat(
                          "  review due: reminder to alice logged ")));
  EXPECT_THAT(r.text, HasSubstr(absl::StrCat("(entry ", due, ")\n")));
  // The movement's report is unchanged: no review line for it.
  EXPECT_FALSE(r.versions[0].review_due_index.has_value());
}

// A key bundle the server would refuse at enrollment (crypto/prekey.h
// CheckKeyBundleStructure), even with every prekey signature valid: the
// verifier refuses it as well (PROTOCOL.md 16.3 step 4).
TEST(ProofBundleKeyBundleTest, RegistrationsMustHaveAWellFormedKeyBundle) {
  ASSERT_OK(InitCrypto());
  struct Case {
    std::string name;
    std::function<void(TestLog&, Member&)> tweak;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"one-time prekey in the signed slot",
       [](TestLog& log, Member& m) {
         m.bundle.signed_prekey = log.NewPrekey(*m.key, PrekeyKind::kOneTime, 7);
       },
       "signed prekey slot holds a one-time prekey"},
      {"signed prekey in a one-time slot",
       [](TestLog& log, Member& m) {
         m.bundle.one_time_prekeys.push_back(
             log.NewPrekey(*m.key, PrekeyKind::kSigned, 8));
       },
       "one-time slot holds a signed prekey"},
      {"repeated one-time key id",
       [](TestLog& log, Member& m) {
         SignedPrekey p = log.NewPrekey(*m.key, PrekeyKind::kOneTime, 9);
         m.bundle.one_time_prekeys = {p, p};
       },
       "duplicate one-time prekey id 9"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    TestLog log;
    log.Register("alice", MemberRole::kCoordinator,
                 [&](Member& m) { c.tweak(log, m); });
    log.Register("bob", MemberRole::kParty);
    std::vector<ProofBundleEntry> entries = log.AllEntries();
    ASSERT_OK_AND_ASSIGN(std::vector<ProofBundleIdentity> ids,
                         IdentitiesFromEntries(entries));
    absl::StatusOr<ProofReport> r =
        VerifyProofBundle(log.UncheckedBundle(entries, ids));
    ASSERT_THAT(r, testing::StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_THAT(std::string(r.status().message()),
                HasSubstr("entries[0] (index 0): registration of alice: "
                          "key bundle: " + c.error));
    // The builder refuses to write it, for the same reason.
    absl::StatusOr<std::string> built = BuildProofBundle(
        log.VerifierKey(), log.Checkpoint(), entries, ids);
    ASSERT_FALSE(built.ok());
    EXPECT_THAT(std::string(built.status().message()), HasSubstr(c.error));
  }
  // The same log with a well-formed bundle verifies (the cases above fail
  // for their bundle, not for the rest of the log).
  TestLog log;
  log.Register("alice", MemberRole::kCoordinator, [&](Member& m) {
    m.bundle.one_time_prekeys = {log.NewPrekey(*m.key, PrekeyKind::kOneTime, 9),
                                 log.NewPrekey(*m.key, PrekeyKind::kOneTime, 10)};
  });
  log.Register("bob", MemberRole::kParty);
  std::vector<ProofBundleEntry> entries = log.AllEntries();
  ASSERT_OK_AND_ASSIGN(std::vector<ProofBundleIdentity> ids,
                       IdentitiesFromEntries(entries));
  EXPECT_OK(VerifyProofBundle(log.UncheckedBundle(entries, ids)).status());
}

// An answer signed by a recipient who is not one of the version's parties
// (the issuer here) is reported apart and never counted (16.3).
TEST_F(ProofBundleTest, AnswerFromANonPartyIsReportedButNotCounted) {
  const std::string v1 = EnvelopeOf(v1_index_);
  const uint64_t index = log_.Append(NotificationAck{
      "mv-1", 1, "alice",
      log_.SignReceiptAs("alice", v1, ReceiptLevel::kAcknowledged), ""});
  ASSERT_OK_AND_ASSIGN(ProofReport r, VerifyProofBundle(BundleOfAll()));
  const VersionReport& version = r.versions[0];
  ASSERT_EQ(version.version, 1u);
  ASSERT_EQ(version.non_party_answers.size(), 1u);
  EXPECT_EQ(version.non_party_answers[0].member, "alice");
  EXPECT_EQ(version.non_party_answers[0].index, index);
  EXPECT_FALSE(version.non_party_answers[0].objected);
  // bob's answer is still his; carol has none; alice has no row.
  ASSERT_EQ(version.progress.size(), 2u);
  EXPECT_NE(version.progress[0].answer_index, index);
  EXPECT_FALSE(version.progress[1].answer_index.has_value());
  EXPECT_THAT(r.text,
              HasSubstr(absl::StrCat(
                  "entry ", index, ", logged ")));
  EXPECT_THAT(r.text, HasSubstr("alice, who is not a party to mv-1 version 1, "
                                "signed an answer of level acknowledged for "
                                "it"));
  EXPECT_THAT(r.text, HasSubstr("NOT counted as a party's answer"));
  EXPECT_THAT(r.text, HasSubstr(absl::StrCat(
                          "answer from a non-party, NOT counted: alice signed "
                          "level acknowledged, logged ")));
  EXPECT_THAT(r.text, Not(HasSubstr("alice acknowledged receipt")));
}

// A type 8 receipt of level acknowledged for a notification version (logs
// from before the server refused them) is neither a delivery nor an
// answer, and is not worded as one.
TEST_F(ProofBundleTest, AcknowledgedLevelReceiptIsNotAnAcknowledgement) {
  const std::string v1 = EnvelopeOf(v1_index_);
  log_.Append(ReceiptEntry{
      v1_index_, "carol",
      log_.SignReceiptAs("carol", v1, ReceiptLevel::kAcknowledged)});
  ASSERT_OK_AND_ASSIGN(ProofReport r, VerifyProofBundle(BundleOfAll()));
  const PartyProgressReport& carol = r.versions[0].progress[1];
  ASSERT_EQ(carol.party, "carol");
  EXPECT_FALSE(carol.answer_index.has_value());
  EXPECT_FALSE(carol.delivered_index.has_value());
  EXPECT_THAT(r.text,
              HasSubstr("a device of carol signed a receipt of level "
                        "acknowledged for mv-1 version 1 (signed at "));
  EXPECT_THAT(r.text, HasSubstr("through SubmitReceipts: not an "
                                "acknowledgement of the notification"));
  EXPECT_THAT(r.text, Not(HasSubstr("signed a acknowledged")));
  EXPECT_THAT(r.text, Not(HasSubstr("carol acknowledged receipt")));
  // Delivered receipts keep their wording.
  EXPECT_THAT(r.text, HasSubstr("a device of bob signed a delivered receipt "
                                "for mv-1 version 1"));
}

TEST_F(ProofBundleTest, WrongPinnedKeyFails) {
  ProofBundleVerifyOptions other;
  other.expected_verifier_key =
      "parley.example/log+ce1df221+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4";
  EXPECT_THAT(VerifyProofBundle(Bundle(), other),
              testing::StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST_F(ProofBundleTest, BuilderRefusesIncompleteBundles) {
  std::vector<ProofBundleEntry> entries = Entries();
  auto ids = IdentitiesFromEntries(entries);
  ASSERT_TRUE(ids.ok());
  // Without bob's rotation entry his later acknowledgement still verifies
  // under the earlier registration (same identity key); without his
  // enrolment nothing he signed can be checked.
  std::vector<ProofBundleEntry> no_bob;
  for (const auto& e : entries) {
    if (e.index != log_.registration("bob")) no_bob.push_back(e);
  }
  auto ids_no_bob = IdentitiesFromEntries(no_bob);
  EXPECT_FALSE(ids_no_bob.ok());  // the rotation has no enrolment
  std::vector<ProofBundleIdentity> partial;
  for (const auto& id : *ids) {
    if (id.name != "bob") partial.push_back(id);
  }
  auto b = BuildProofBundle(log_.VerifierKey(), log_.Checkpoint(), entries,
                            partial);
  ASSERT_FALSE(b.ok());
  EXPECT_THAT(std::string(b.status().message()),
              HasSubstr("signed by bob, whose registration"));

  // A version 2 without version 1.
  std::vector<ProofBundleEntry> no_v1;
  for (const auto& e : entries) {
    if (e.index != v1_index_) no_v1.push_back(e);
  }
  b = BuildProofBundle(log_.VerifierKey(), log_.Checkpoint(), no_v1, *ids);
  ASSERT_FALSE(b.ok());

  // A proof against another checkpoint.
  std::vector<ProofBundleEntry> stale = entries;
  TestLog other;
  other.Register("zed", MemberRole::kParty);
  stale[0].tlog_proof = other.Entry(0).tlog_proof;
  b = BuildProofBundle(log_.VerifierKey(), log_.Checkpoint(), stale, *ids);
  ASSERT_FALSE(b.ok());

  // An identity claiming a role the log did not register.
  std::vector<ProofBundleIdentity> wrong_role = *ids;
  wrong_role[0].role = "mediator";
  b = BuildProofBundle(log_.VerifierKey(), log_.Checkpoint(), entries,
                       wrong_role);
  ASSERT_FALSE(b.ok());
  EXPECT_THAT(std::string(b.status().message()), HasSubstr("role mediator"));
}

// Flips bits in the bundle text itself: every position with XOR 0x01 and a
// spread of positions with other masks. Every single change must fail.
TEST_F(ProofBundleTest, AnyFlippedByteFailsVerification) {
  const std::string bundle = Bundle();
  ASSERT_OK(VerifyProofBundle(bundle).status());
  int tried = 0;
  std::vector<size_t> survivors;
  for (size_t i = 0; i < bundle.size(); ++i) {
    for (uint8_t mask : {0x01, 0x80}) {
      if (mask == 0x80 && i % 7 != 0) continue;
      std::string t = bundle;
      t[i] = static_cast<char>(t[i] ^ mask);
      ++tried;
      if (VerifyProofBundle(t).ok()) survivors.push_back(i);
    }
  }
  EXPECT_GE(tried, 2000);
  RecordProperty("bundle_bytes", static_cast<int>(bundle.size()));
  RecordProperty("flips_tried", tried);
  EXPECT_TRUE(survivors.empty())
      << survivors.size() << " flips verified, first at offset "
      << survivors[0] << ": ..." << bundle.substr(survivors[0] > 20
                                                      ? survivors[0] - 20
                                                      : 0,
                                                  40)
      << "...";
}

// Flips bytes inside every base64 field after decoding (then re-encodes), so
// the JSON and base64 syntax stay valid and only the signed or hashed bytes
// change.
TEST_F(ProofBundleTest, AnyFlippedDecodedByteFailsVerification) {
  const json original = json::parse(Bundle());
  int tried = 0;
  auto try_flips = [&](const std::function<std::string&(json&)>& field,
                       const std::string& what, size_t stride) {
    json j = original;
    std::string bytes = *Base64Decode(field(j));
    for (size_t i = 0; i < bytes.size(); i += stride) {
      json k = original;
      std::string flipped = bytes;
      flipped[i] = static_cast<char>(flipped[i] ^ (1 << (i % 8)));
      field(k) = Base64Encode(flipped);
      ++tried;
      auto r = VerifyProofBundle(k.dump(1));
      EXPECT_FALSE(r.ok()) << what << " byte " << i << " of " << bytes.size();
    }
  };
  for (size_t e = 0; e < original["entries"].size(); ++e) {
    try_flips(
        [e](json& j) -> std::string& {
          return j["entries"][e]["leaf"].get_ref<std::string&>();
        },
        "entries[" + std::to_string(e) + "].leaf", 3);
  }
  for (size_t i = 0; i < original["identities"].size(); ++i) {
    try_flips(
        [i](json& j) -> std::string& {
          return j["identities"][i]["identity_key"].get_ref<std::string&>();
        },
        "identity_key", 1);
  }
  EXPECT_GE(tried, 2000);

  // Inclusion proof hashes and the checkpoint signature inside tlog_proof
  // texts and the checkpoint note: decode the base64 line, flip, re-encode.
  auto flip_lines = [&](const std::string& text) {
    std::vector<std::string> variants;
    std::vector<std::string> lines = absl::StrSplit(text, '\n');
    for (size_t l = 0; l < lines.size(); ++l) {
      std::string_view line = lines[l];
      std::string prefix;
      if (line.rfind("\xE2\x80\x94 ", 0) == 0) {  // signature line
        size_t sp = line.rfind(' ');
        prefix = std::string(line.substr(0, sp + 1));
        line = line.substr(sp + 1);
      }
      auto bytes = Base64Decode(line);
      if (!bytes.ok() || bytes->size() < 32) continue;
      for (size_t i = 0; i < bytes->size(); i += 5) {
        std::string f = *bytes;
        f[i] = static_cast<char>(f[i] ^ 0x10);
        std::vector<std::string> copy = lines;
        copy[l] = prefix + Base64Encode(f);
        variants.push_back(absl::StrJoin(copy, "\n"));
      }
    }
    return variants;
  };
  int proof_flips = 0;
  for (const std::string& v :
       flip_lines(original["entries"][4]["tlog_proof"].get<std::string>())) {
    json k = original;
    k["entries"][4]["tlog_proof"] = v;
    EXPECT_FALSE(VerifyProofBundle(k.dump(1)).ok());
    ++proof_flips;
  }
  for (const std::string& v :
       flip_lines(original["checkpoint"].get<std::string>())) {
    json k = original;
    k["checkpoint"] = v;
    EXPECT_FALSE(VerifyProofBundle(k.dump(1)).ok());
    ++proof_flips;
  }
  EXPECT_GE(proof_flips, 30);
}

TEST_F(ProofBundleTest, StructuralTamperingIsNamed) {
  const json original = json::parse(Bundle());
  auto error = [](const json& j) {
    auto r = VerifyProofBundle(j.dump());
    return r.ok() ? std::string("OK") : std::string(r.status().message());
  };
  json j = original;
  j["entries"].erase(0);  // alice's registration
  EXPECT_THAT(error(j), HasSubstr("identities[0] (alice): its registration "
                                  "entry 0 is not in the bundle"));
  j = original;
  std::swap(j["entries"][1], j["entries"][2]);
  EXPECT_THAT(error(j), HasSubstr("increasing index order"));
  j = original;
  j["entries"][3]["kind"] = "envelope";
  EXPECT_THAT(error(j), HasSubstr("kind \"envelope\" but the leaf is"));
  j = original;
  j["extra"] = 1;
  EXPECT_THAT(error(j), HasSubstr("unknown member \"extra\""));
  j = original;
  j["identities"][1]["identity_key"] =
      j["identities"][2]["identity_key"];  // carol's key as bob's
  EXPECT_THAT(error(j), HasSubstr("identity_key is not the key registered"));
  j = original;
  j["entries"][3]["index"] = 3;  // claims another position
  EXPECT_THAT(error(j), Not(HasSubstr("OK")));
  j = original;
  j["format"] = "parley-proof/v2";
  EXPECT_THAT(error(j), HasSubstr("format"));
}

}  // namespace
}  // namespace parley
