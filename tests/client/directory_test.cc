// Client-side checks of key directory answers against fabricated log
// entries, inclusion proofs and signed checkpoints.

#include "client/core/directory.h"

#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "crypto/ed25519.h"
#include "crypto/random.h"
#include "gtest/gtest.h"
#include "storage/tlog/log_entry.h"
#include "storage/tlog/merkle.h"
#include "tests/testing/status_matchers.h"

namespace parley {
namespace {

using ::parley::testing::StatusIs;

constexpr char kOrigin[] = "parley.test/log";
const absl::Time kNow = absl::FromUnixSeconds(1'790'000'000);

class DirectoryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_OK(InitCrypto()); }

  void SetUp() override {
    random_ = NewDeterministicRandom("directory test");
    member_ = std::make_unique<Ed25519PrivateKey>(
        Ed25519PrivateKey::Generate(*random_));
    log_key_ = std::make_unique<Ed25519PrivateKey>(
        Ed25519PrivateKey::Generate(*random_));
    absl::StatusOr<PrekeyPair> prekey = GeneratePrekey(
        *member_, PrekeyKind::kSigned, 1, kNow, kMaxPrekeyLifetime, *random_);
    ASSERT_OK(prekey);
    bundle_ = SerializeKeyBundle(
        KeyBundle{member_->public_key(), prekey->prekey, {}});
    absl::StatusOr<std::string> vkey =
        FormatVerifierKey(kOrigin, log_key_->public_key());
    ASSERT_OK(vkey);
    absl::StatusOr<LogTrust> trust = MakeLogTrust(kOrigin, *vkey);
    ASSERT_OK(trust);
    trust_ = *trust;
    // A log of five entries; entry 3 registers "partya".
    for (int i = 0; i < 5; ++i) {
      LogEntry e;
      e.logged_at_ms = 1000 + i;
      if (i == 3) {
        e.body = MemberRegistered{"partya", MemberRole::kParty, "Org A",
                                  std::string(32, 'h'), bundle_,
                                  std::string(64, 's')};
      } else {
        e.body = MemberRevoked{absl::StrCat("m", i), "admin", "test"};
      }
      entries_.push_back(EncodeLogEntry(e));
    }
  }

  // A record and an inclusion proof for entry `index` against a checkpoint
  // of the whole log, signed by `signer`.
  void Build(uint64_t index, v1::KeyBundleRecord* record,
             v1::InclusionProof* proof,
             const Ed25519PrivateKey* signer = nullptr) {
    record->mutable_member()->set_name("partya");
    record->mutable_member()->set_identity_key(member_->public_key());
    record->mutable_member()->set_registration_index(index);
    record->set_key_bundle(bundle_);
    record->set_entry(entries_[index]);

    const uint64_t size = entries_.size();
    auto read = [&](int level, uint64_t i) -> absl::StatusOr<std::string> {
      std::vector<std::string> slice(
          entries_.begin() + (i << level),
          entries_.begin() + std::min<uint64_t>((i + 1) << level, size));
      return RootFromLeaves(slice);
    };
    absl::StatusOr<std::vector<std::string>> hashes =
        BuildInclusionProof(index, size, read);
    ASSERT_OK(hashes);
    proof->set_index(index);
    proof->set_tree_size(size);
    proof->set_leaf(entries_[index]);
    for (const std::string& h : *hashes) proof->add_hashes(h);
    Checkpoint cp{kOrigin, size, RootFromLeaves(entries_), {}};
    absl::StatusOr<std::string> note = SignNote(
        FormatCheckpoint(cp), kOrigin, signer ? *signer : *log_key_);
    ASSERT_OK(note);
    proof->mutable_checkpoint()->set_note(*note);
  }

  std::unique_ptr<Random> random_;
  std::unique_ptr<Ed25519PrivateKey> member_;
  std::unique_ptr<Ed25519PrivateKey> log_key_;
  std::string bundle_;
  LogTrust trust_;
  std::vector<std::string> entries_;
};

TEST_F(DirectoryTest, ProvenRegistrationVerifies) {
  v1::KeyBundleRecord record;
  v1::InclusionProof proof;
  Build(3, &record, &proof);
  ASSERT_OK_AND_ASSIGN(KeyBundle bundle,
                       VerifyKeyBundleRecord(record, proof, trust_, kNow));
  EXPECT_EQ(bundle.identity_public_key, member_->public_key());
}

TEST_F(DirectoryTest, PublishedBundleEntryIsAcceptedToo) {
  LogEntry e;
  e.body = KeyBundlePublished{"partya", bundle_, std::string(64, 's')};
  entries_[4] = EncodeLogEntry(e);
  v1::KeyBundleRecord record;
  v1::InclusionProof proof;
  Build(4, &record, &proof);
  EXPECT_OK(VerifyKeyBundleRecord(record, proof, trust_, kNow));
}

TEST_F(DirectoryTest, EntryForAnotherMemberIsRefused) {
  v1::KeyBundleRecord record;
  v1::InclusionProof proof;
  Build(3, &record, &proof);
  record.mutable_member()->set_name("partyb");
  EXPECT_THAT(VerifyKeyBundleRecord(record, proof, trust_, kNow),
              StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(DirectoryTest, BundleThatIsNotTheLoggedOneIsRefused) {
  v1::KeyBundleRecord record;
  v1::InclusionProof proof;
  Build(3, &record, &proof);
  // A substituted bundle: another identity, correctly self-signed.
  Ed25519PrivateKey other = Ed25519PrivateKey::Generate(*random_);
  absl::StatusOr<PrekeyPair> prekey = GeneratePrekey(
      other, PrekeyKind::kSigned, 1, kNow, kMaxPrekeyLifetime, *random_);
  ASSERT_OK(prekey);
  record.set_key_bundle(
      SerializeKeyBundle(KeyBundle{other.public_key(), prekey->prekey, {}}));
  record.mutable_member()->set_identity_key(other.public_key());
  EXPECT_THAT(VerifyKeyBundleRecord(record, proof, trust_, kNow),
              StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(DirectoryTest, NonRegistrationEntryIsRefused) {
  v1::KeyBundleRecord record;
  v1::InclusionProof proof;
  Build(2, &record, &proof);
  EXPECT_THAT(VerifyKeyBundleRecord(record, proof, trust_, kNow),
              StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(DirectoryTest, TamperedProofIsRefused) {
  v1::KeyBundleRecord record;
  v1::InclusionProof proof;
  Build(3, &record, &proof);
  std::string h = proof.hashes(0);
  h[0] ^= 1;
  proof.set_hashes(0, h);
  EXPECT_THAT(VerifyKeyBundleRecord(record, proof, trust_, kNow),
              StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(DirectoryTest, ProofForAnotherIndexIsRefused) {
  v1::KeyBundleRecord record;
  v1::InclusionProof proof;
  Build(3, &record, &proof);
  record.mutable_member()->set_registration_index(1);
  EXPECT_THAT(VerifyKeyBundleRecord(record, proof, trust_, kNow),
              StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(DirectoryTest, CheckpointSignedByAnotherKeyIsRefused) {
  Ed25519PrivateKey impostor = Ed25519PrivateKey::Generate(*random_);
  v1::KeyBundleRecord record;
  v1::InclusionProof proof;
  Build(3, &record, &proof, &impostor);
  EXPECT_THAT(VerifyKeyBundleRecord(record, proof, trust_, kNow),
              StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST_F(DirectoryTest, CheckpointOfAnotherSizeIsRefused) {
  v1::KeyBundleRecord record;
  v1::InclusionProof proof;
  Build(3, &record, &proof);
  proof.set_tree_size(4);
  EXPECT_THAT(VerifyKeyBundleRecord(record, proof, trust_, kNow),
              StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(DirectoryTest, ExpiredPrekeyBlocksEncryptionButNotIdentification) {
  v1::KeyBundleRecord record;
  v1::InclusionProof proof;
  Build(3, &record, &proof);
  const absl::Time later = kNow + absl::Hours(8 * 24);
  EXPECT_THAT(VerifyKeyBundleRecord(record, proof, trust_, later),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_OK(VerifyKeyBundleRecord(record, proof, trust_, std::nullopt));
}

TEST(FingerprintInputTest, NormalisesTypedFingerprints) {
  const std::string canonical =
      "12345 67890 12345 67890 12345 67890 12345 67890 12345 67890 12345 "
      "67890";
  std::string compact;
  for (char c : canonical) {
    if (c != ' ') compact.push_back(c);
  }
  ASSERT_OK_AND_ASSIGN(std::string a, NormalizeIdentityFingerprint(compact));
  EXPECT_EQ(a, canonical);
  EXPECT_THAT(NormalizeIdentityFingerprint("12345"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(NormalizeIdentityFingerprint(canonical + "x"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(MemberRevokedTest, RevokedIsTypedNotReadFromTheMessage) {
  const absl::Status revoked = MemberRevokedError("partyb");
  EXPECT_THAT(revoked, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(revoked.message(), "partyb has been revoked");
  EXPECT_TRUE(IsMemberRevoked(revoked));
  // Still recognised once a caller has copied it along.
  absl::StatusOr<int> carried = revoked;
  EXPECT_TRUE(IsMemberRevoked(carried.status()));
  // The same words from anywhere else are not the signal.
  EXPECT_FALSE(
      IsMemberRevoked(absl::PermissionDeniedError("partyb has been revoked")));
  EXPECT_FALSE(IsMemberRevoked(absl::OkStatus()));
  // Nor is the payload on another code.
  absl::Status other = absl::FailedPreconditionError("partyb has been revoked");
  other.SetPayload(kMemberRevokedPayload, absl::Cord("partyb"));
  EXPECT_FALSE(IsMemberRevoked(other));
}

}  // namespace
}  // namespace parley
