// Known-answer tests against tests/vectors/protocol/notification.json
// (written by tests/vectors/generate_protocol_vectors.cc; PROTOCOL.md 15).
// Each envelope is rebuilt from the recorded inputs only, as an
// independent implementation would, and opened by every recipient; then
// the rules of PROTOCOL.md 15.1, 15.4a and 15.5 are checked on the
// vectors: payloads are what the client writes and valid under the
// published schemas, metadata is derived from the content, versions chain,
// and each side envelope is sealed to the recipients the server requires.

#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "absl/strings/str_join.h"
#include "client/deconfliction/notification_content.h"
#include "crypto/domain.h"
#include "crypto/encoding.h"
#include "crypto/envelope.h"
#include "crypto/prekey.h"
#include "crypto/receipt.h"
#include "crypto/x25519.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/testing/json_schema.h"
#include "tests/testing/paths.h"
#include "tests/testing/status_matchers.h"

namespace parley {
namespace {

using nlohmann::json;

class FixedRandom final : public Random {
 public:
  explicit FixedRandom(std::string bytes) : bytes_(std::move(bytes)) {}
  void Fill(uint8_t* out, size_t len) override {
    ASSERT_LE(len, bytes_.size() - pos_) << "FixedRandom exhausted";
    std::memcpy(out, bytes_.data() + pos_, len);
    pos_ += len;
  }
  bool exhausted() const { return pos_ == bytes_.size(); }

 private:
  std::string bytes_;
  size_t pos_ = 0;
};

json LoadJson(const std::string& relative) {
  std::ifstream in(::parley::testing::SourceDir() + "/" + relative);
  EXPECT_TRUE(in.good()) << "missing " << relative;
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
}

std::string Bin(const json& j) {
  absl::StatusOr<std::string> b = HexDecode(j.get<std::string>());
  EXPECT_TRUE(b.ok()) << j;
  return b.value_or("");
}

struct Member {
  std::string role;
  std::string organisation;
  Ed25519PrivateKey identity;
  SignedPrekey spk;
  std::string spk_secret;
};

// Rebuilds a member's device from its seed and prekey secret, re-signing
// the prekey as GeneratePrekey does.
Member RebuildMember(const json& j) {
  const json& d = j["device"];
  Member m{j["role"].get<std::string>(),
           j["organisation"].get<std::string>(),
           *Ed25519PrivateKey::FromSeed(Bin(d["identity_seed"])),
           {},
           ""};
  EXPECT_EQ(HexEncode(m.identity.public_key()),
            d["identity_public"].get<std::string>());
  const json& p = d["signed_prekey"];
  m.spk_secret = Bin(p["secret"]);
  m.spk.kind = PrekeyKind::kSigned;
  m.spk.key_id = p["key_id"].get<uint32_t>();
  m.spk.public_key = X25519PrivateKey::FromBytes(m.spk_secret)->public_key();
  m.spk.created_at = p["created_at"].get<int64_t>();
  m.spk.expires_at = p["expires_at"].get<int64_t>();
  m.spk.signature = m.identity.Sign(
      SigningInput(kPrekeySignatureTag, SignedPrekeyBody(m.spk)));
  EXPECT_EQ(HexEncode(SerializeSignedPrekey(m.spk)),
            p["encoded"].get<std::string>());
  EXPECT_TRUE(VerifySignedPrekeyAt(m.identity.public_key(), m.spk,
                                   absl::FromUnixSeconds(m.spk.created_at))
                  .ok());
  return m;
}

const char* SchemaFileFor(const std::string& content_type) {
  static const std::map<std::string, const char*> kFiles = {
      {"application/vnd.parley.movement+json", "parley-movement-v1"},
      {"application/vnd.parley.site+json", "parley-site-v1"},
      {"application/vnd.parley.objection+json", "parley-objection-v1"},
      {"application/vnd.parley.cancel+json", "parley-cancel-v1"},
      {"application/vnd.parley.status+json", "parley-status-v1"}};
  auto it = kFiles.find(content_type);
  return it == kFiles.end() ? nullptr : it->second;
}

class NotificationVectorsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_OK(InitCrypto()); }

  void SetUp() override {
    v_ = LoadJson("tests/vectors/protocol/notification.json");
    ASSERT_FALSE(v_.is_discarded());
    for (const json& m : v_["members"]) {
      members_.emplace(m["name"].get<std::string>(), RebuildMember(m));
    }
    ASSERT_EQ(members_.size(), 4u);
    ASSERT_EQ(v_["cases"].size(), 6u);
  }

  const json& Case(const std::string& name) const {
    for (const json& c : v_["cases"]) {
      if (c["name"] == name) return c;
    }
    ADD_FAILURE() << "no case " << name;
    return v_["cases"][0];
  }

  std::vector<std::string> RecipientNames(const json& c) const {
    std::vector<std::string> out;
    for (const json& r : c["recipients"]) {
      out.push_back(r["member"].get<std::string>());
    }
    return out;
  }

  json v_;
  std::map<std::string, Member> members_;
};

TEST_F(NotificationVectorsTest, EveryEnvelopeIsRebuiltAndOpenedFromItsInputs) {
  for (const json& c : v_["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const Member& sender = members_.at(c["sender"].get<std::string>());
    EXPECT_EQ(HexEncode(sender.identity.public_key()),
              c["sender_public"].get<std::string>());
    std::vector<EnvelopeRecipient> recipients;
    for (const json& r : c["recipients"]) {
      const Member& m = members_.at(r["member"].get<std::string>());
      EXPECT_EQ(HexEncode(m.identity.public_key()),
                r["identity_public"].get<std::string>());
      recipients.push_back({m.identity.public_key(), m.spk, std::nullopt});
    }
    EnvelopeMetadata md;
    md.channel_id = Bin(c["channel_id"]);
    EXPECT_EQ(md.channel_id, c["channel"].get<std::string>());
    md.client_message_id = Bin(c["client_message_id"]);
    md.sequence = c["sequence"].get<uint64_t>();
    md.previous_hash = Bin(c["previous_hash"]);
    md.created_at = c["created_at"].get<int64_t>();
    md.content_type = c["content_type"].get<std::string>();
    const std::string payload = Bin(c["payload"]);
    EXPECT_EQ(payload, c["payload_text"].get<std::string>());

    FixedRandom random(Bin(c["content_key"]) + Bin(c["payload_nonce"]) +
                       Bin(c["ephemeral_secret"]));
    ASSERT_OK_AND_ASSIGN(
        std::string envelope,
        SealEnvelope(sender.identity, md, recipients, payload, random));
    EXPECT_TRUE(random.exhausted());
    EXPECT_EQ(HexEncode(envelope), c["envelope"].get<std::string>());
    EXPECT_EQ(HexEncode(EnvelopeHash(envelope)),
              c["envelope_hash"].get<std::string>());
    const std::string header = Bin(c["header"]);
    EXPECT_EQ(envelope.substr(0, header.size()), header);
    EXPECT_EQ(HexEncode(HeaderHash(header)),
              c["header_hash"].get<std::string>());

    X25519PrivateKey eph =
        *X25519PrivateKey::FromBytes(Bin(c["ephemeral_secret"]));
    EXPECT_EQ(HexEncode(eph.public_key()),
              c["ephemeral_public"].get<std::string>());
    ASSERT_OK_AND_ASSIGN(ParsedEnvelope parsed, ParseEnvelope(envelope));
    for (size_t i = 0; i < recipients.size(); ++i) {
      const json& r = c["recipients"][i];
      const Member& m = members_.at(r["member"].get<std::string>());
      ASSERT_OK_AND_ASSIGN(SecureBuffer dh,
                           X25519SharedSecret(eph, m.spk.public_key));
      EXPECT_EQ(HexEncode(dh.view()), r["dh_signed"].get<std::string>());
      SecureBuffer wrap =
          DeriveWrapKey(dh, SecureBuffer(), HeaderHash(header),
                        eph.public_key(), sender.identity.public_key(),
                        parsed.header.recipients[i], m.spk.public_key, "");
      EXPECT_EQ(HexEncode(wrap.view()), r["wrap_key"].get<std::string>());
      EXPECT_EQ(HexEncode(parsed.wrapped_keys[i]),
                r["wrapped_key"].get<std::string>());
      std::vector<PrekeyPair> pairs;
      pairs.push_back({m.spk, *X25519PrivateKey::FromBytes(m.spk_secret)});
      ASSERT_OK_AND_ASSIGN(
          OpenedEnvelope opened,
          OpenEnvelope(envelope, m.identity.public_key(), pairs));
      EXPECT_EQ(opened.payload, payload);
    }
  }
}

TEST_F(NotificationVectorsTest, PayloadsAreValidUnderThePublishedSchemas) {
  for (const json& c : v_["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const char* file = SchemaFileFor(c["content_type"].get<std::string>());
    ASSERT_NE(file, nullptr) << c["content_type"];
    absl::StatusOr<::parley::testing::JsonSchema> schema =
        ::parley::testing::JsonSchema::LoadFile(::parley::testing::SourceDir() +
                                                "/docs/schemas/" + file +
                                                ".schema.json");
    ASSERT_TRUE(schema.ok()) << schema.status();
    const json payload = json::parse(c["payload_text"].get<std::string>());
    EXPECT_EQ(absl::StrJoin(schema->Validate(payload), "\n"), "");
    // Side payloads name the notification and version they are about.
    if (c["kind"] != "version") {
      const std::string channel = c["channel"].get<std::string>();
      EXPECT_EQ(channel, "n/" + payload["id"].get<std::string>() + "/" +
                             c["kind"].get<std::string>());
    }
  }
}

TEST_F(NotificationVectorsTest, VersionsAreTheClientsContentAndMetadata) {
  for (const json& c : v_["cases"]) {
    if (c["kind"] != "version") continue;
    SCOPED_TRACE(c["name"].get<std::string>());
    const std::string payload = c["payload_text"].get<std::string>();
    ASSERT_OK_AND_ASSIGN(NotificationContent content,
                         ParseAndValidateContent(payload));
    // Byte for byte what the C++ client writes for this content.
    EXPECT_EQ(SerializeContent(content), payload);
    EXPECT_EQ(ContentTypeOf(content), c["content_type"].get<std::string>());
    const uint32_t version = c["version"].get<uint32_t>();
    EXPECT_EQ(ContentVersion(content), version);
    EXPECT_EQ(c["sequence"].get<uint64_t>(), version - 1);
    EXPECT_EQ(c["channel"].get<std::string>(), "n/" + ContentId(content));
    const VisibleMetadata md = ComputeVisibleMetadata(content);
    const json& m = c["metadata"];
    EXPECT_EQ(m["id"].get<std::string>(), md.id);
    EXPECT_EQ(m["kind"].get<std::string>(), md.movement ? "MOVEMENT" : "SITE");
    EXPECT_EQ(m["parties"].get<std::vector<std::string>>(), md.parties);
    EXPECT_EQ(m["depart_at"].get<int64_t>(), md.depart_at);
    EXPECT_EQ(m["ack_by"].get<int64_t>(), md.ack_by);
    EXPECT_EQ(m["valid_from"].get<int64_t>(), md.valid_from);
    EXPECT_EQ(m["valid_until"].get<int64_t>(), md.valid_until);
    EXPECT_EQ(m["emergency"].get<bool>(), md.emergency);
  }
  // The amendment chains to version 1: sequence 1, previous hash = v1's.
  const json& v1 = Case("movement version 1");
  const json& v2 = Case("movement version 2 (amendment)");
  EXPECT_EQ(v1["previous_hash"].get<std::string>(), std::string(64, '0'));
  EXPECT_EQ(v2["previous_hash"], v1["envelope_hash"]);
  EXPECT_EQ(v2["supersedes"].get<uint32_t>(), 1u);
}

// PROTOCOL.md 12 and 15.4a: a version goes to its audience (parties, every
// mediator, the issuer's organisation's coordinators); an objection to the
// issuer side (the audience without the parties, so never the objecting
// party itself); a status or a cancellation to the version's audience. Side
// envelopes carry sequence 0 and a zero previous hash.
TEST_F(NotificationVectorsTest, EachEnvelopeGoesToTheRecipientsTheRulesName) {
  auto audience = [&](const json& version_case) {
    std::set<std::string> out;
    const std::string issuer = version_case["sender"].get<std::string>();
    const std::string org = members_.at(issuer).organisation;
    for (const json& p : version_case["metadata"]["parties"]) {
      out.insert(p.get<std::string>());
    }
    for (const auto& [name, m] : members_) {
      if (m.role == "mediator" ||
          (m.role == "coordinator" && m.organisation == org)) {
        out.insert(name);
      }
    }
    return std::vector<std::string>(out.begin(), out.end());
  };
  const json& mv2 = Case("movement version 2 (amendment)");
  const json& site = Case("site version 1");
  EXPECT_EQ(RecipientNames(Case("movement version 1")), audience(mv2));
  EXPECT_EQ(RecipientNames(mv2), audience(mv2));
  EXPECT_EQ(RecipientNames(site), audience(site));

  const json& objection = Case("objection to movement version 2");
  std::vector<std::string> issuer_side;
  for (const std::string& name : audience(mv2)) {
    if (members_.at(name).role != "party") issuer_side.push_back(name);
  }
  EXPECT_EQ(RecipientNames(objection), issuer_side);
  const std::vector<std::string> objection_recipients =
      RecipientNames(objection);
  EXPECT_EQ(std::count(objection_recipients.begin(), objection_recipients.end(),
                       objection["sender"].get<std::string>()),
            0);
  EXPECT_EQ(RecipientNames(Case("status of movement version 2")),
            audience(mv2));
  EXPECT_EQ(RecipientNames(Case("cancellation of site version 1")),
            audience(site));
  for (const json& c : v_["cases"]) {
    if (c["kind"] == "version") continue;
    SCOPED_TRACE(c["name"].get<std::string>());
    EXPECT_EQ(c["sequence"].get<uint64_t>(), 0u);
    EXPECT_EQ(c["previous_hash"].get<std::string>(), std::string(64, '0'));
  }
}

TEST_F(NotificationVectorsTest, ObjectionReceiptNamesTheVersionAndTheReason) {
  const json& c = Case("objection to movement version 2");
  const Member& party = members_.at(c["sender"].get<std::string>());
  EXPECT_EQ(c["answers_envelope_hash"],
            Case("movement version 2 (amendment)")["envelope_hash"]);
  const std::string version_hash = Bin(c["answers_envelope_hash"]);
  const std::string reason_hash = Bin(c["envelope_hash"]);
  ASSERT_OK_AND_ASSIGN(
      std::string receipt,
      SignReceipt(party.identity, version_hash, ReceiptLevel::kObjected,
                  absl::FromUnixSeconds(c["receipt_time"].get<int64_t>()),
                  reason_hash));
  EXPECT_EQ(HexEncode(receipt), c["receipt"].get<std::string>());
  ASSERT_OK_AND_ASSIGN(
      Receipt parsed, VerifyReceipt(Bin(c["receipt"]),
                                    party.identity.public_key(), version_hash));
  EXPECT_EQ(parsed.level, ReceiptLevel::kObjected);
  EXPECT_EQ(parsed.reason_hash, reason_hash);
}

}  // namespace
}  // namespace parley
