// Known-answer tests against tests/vectors/protocol/*.json (written by
// tests/vectors/generate_protocol_vectors.cc). Each test rebuilds outputs
// from the recorded inputs only, as an independent implementation would.

#include <cstring>
#include <fstream>
#include <sstream>

#include "crypto/domain.h"
#include "crypto/encoding.h"
#include "crypto/envelope.h"
#include "crypto/fingerprint.h"
#include "crypto/keystore.h"
#include "crypto/prekey.h"
#include "crypto/receipt.h"
#include "crypto/x25519.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
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

json Load(const std::string& name) {
  std::ifstream in(::parley::testing::SourceDir() + "/tests/vectors/protocol/" +
                   name);
  EXPECT_TRUE(in.good()) << "missing vector file " << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
}

std::string Bin(const json& j) {
  absl::StatusOr<std::string> b = HexDecode(j.get<std::string>());
  EXPECT_TRUE(b.ok()) << j;
  return b.value_or("");
}

struct Prekey {
  SignedPrekey prekey;
  std::string secret;
};

// Rebuilds and re-signs a prekey from its recorded fields.
Prekey RebuildPrekey(const Ed25519PrivateKey& identity, const json& j) {
  Prekey p;
  p.secret = Bin(j["secret"]);
  p.prekey.kind = static_cast<PrekeyKind>(j["kind"].get<int>());
  p.prekey.key_id = j["key_id"].get<uint32_t>();
  p.prekey.public_key = X25519PrivateKey::FromBytes(p.secret)->public_key();
  p.prekey.created_at = j["created_at"].get<int64_t>();
  p.prekey.expires_at = j["expires_at"].get<int64_t>();
  const std::string input =
      SigningInput(kPrekeySignatureTag, SignedPrekeyBody(p.prekey));
  EXPECT_EQ(HexEncode(input), j["signing_input"].get<std::string>());
  p.prekey.signature = identity.Sign(input);
  EXPECT_EQ(HexEncode(p.prekey.public_key), j["public_key"].get<std::string>());
  EXPECT_EQ(HexEncode(SerializeSignedPrekey(p.prekey)),
            j["encoded"].get<std::string>());
  return p;
}

struct Device {
  Ed25519PrivateKey identity;
  Prekey spk;
  std::optional<Prekey> otpk;

  std::vector<PrekeyPair> Pairs() const {
    std::vector<PrekeyPair> out;
    out.push_back({spk.prekey, *X25519PrivateKey::FromBytes(spk.secret)});
    if (otpk) {
      out.push_back({otpk->prekey, *X25519PrivateKey::FromBytes(otpk->secret)});
    }
    return out;
  }
};

Device RebuildDevice(const json& j) {
  Device d{*Ed25519PrivateKey::FromSeed(Bin(j["identity_seed"])), {}, {}};
  EXPECT_EQ(HexEncode(d.identity.public_key()),
            j["identity_public"].get<std::string>());
  d.spk = RebuildPrekey(d.identity, j["signed_prekey"]);
  if (j.contains("one_time_prekey")) {
    d.otpk = RebuildPrekey(d.identity, j["one_time_prekey"]);
  }
  return d;
}

class VectorsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_OK(InitCrypto()); }
};

TEST_F(VectorsTest, Fingerprints) {
  const json v = Load("fingerprint.json");
  ASSERT_FALSE(v.is_discarded());
  ASSERT_EQ(v["identities"].size(), 3u);
  for (const json& c : v["identities"]) {
    EXPECT_EQ(*IdentityFingerprint(Bin(c["identity_public"])),
              c["fingerprint"].get<std::string>());
  }
  for (const json& c : v["pairs"]) {
    EXPECT_EQ(*PairFingerprint(Bin(c["a"]), Bin(c["b"])),
              c["pair_fingerprint"].get<std::string>());
    EXPECT_EQ(*PairFingerprint(Bin(c["b"]), Bin(c["a"])),
              c["pair_fingerprint"].get<std::string>());
  }
}

TEST_F(VectorsTest, PrekeysAndBundle) {
  const json v = Load("prekey.json");
  ASSERT_FALSE(v.is_discarded());
  Device d = RebuildDevice(v["device"]);
  const absl::Time at = absl::FromUnixSeconds(d.spk.prekey.created_at);
  EXPECT_OK(VerifySignedPrekeyAt(d.identity.public_key(), d.spk.prekey, at));
  ASSERT_OK_AND_ASSIGN(KeyBundle bundle, ParseKeyBundle(Bin(v["key_bundle"])));
  EXPECT_EQ(bundle.identity_public_key, d.identity.public_key());
  EXPECT_EQ(bundle.signed_prekey, d.spk.prekey);
  ASSERT_EQ(bundle.one_time_prekeys.size(), 2u);
  EXPECT_EQ(bundle.one_time_prekeys[0], d.otpk->prekey);
  EXPECT_OK(VerifyKeyBundleAt(bundle, at));
  EXPECT_EQ(HexEncode(SerializeKeyBundle(bundle)),
            v["key_bundle"].get<std::string>());
}

TEST_F(VectorsTest, Envelopes) {
  const json v = Load("envelope.json");
  ASSERT_FALSE(v.is_discarded());
  ASSERT_EQ(v["cases"].size(), 2u);
  for (const json& c : v["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    Ed25519PrivateKey sender = *Ed25519PrivateKey::FromSeed(Bin(c["sender_seed"]));
    std::vector<Device> devices;
    std::vector<EnvelopeRecipient> recipients;
    for (const json& r : c["recipients"]) {
      devices.push_back(RebuildDevice(r));
      const Device& d = devices.back();
      EnvelopeRecipient er{d.identity.public_key(), d.spk.prekey,
                           std::nullopt};
      if (d.otpk) er.one_time_prekey = d.otpk->prekey;
      recipients.push_back(er);
    }
    EnvelopeMetadata m;
    m.channel_id = Bin(c["channel_id"]);
    m.client_message_id = Bin(c["client_message_id"]);
    m.sequence = c["sequence"].get<uint64_t>();
    m.previous_hash = Bin(c["previous_hash"]);
    m.created_at = c["created_at"].get<int64_t>();
    m.content_type = c["content_type"].get<std::string>();
    const std::string payload = Bin(c["payload"]);

    FixedRandom random(Bin(c["content_key"]) + Bin(c["payload_nonce"]) +
                       Bin(c["ephemeral_secret"]));
    ASSERT_OK_AND_ASSIGN(std::string envelope,
                         SealEnvelope(sender, m, recipients, payload, random));
    EXPECT_TRUE(random.exhausted());
    EXPECT_EQ(HexEncode(envelope), c["envelope"].get<std::string>());
    EXPECT_EQ(HexEncode(EnvelopeHash(envelope)),
              c["envelope_hash"].get<std::string>());

    // Intermediate values, step by step.
    const std::string header = Bin(c["header"]);
    EXPECT_EQ(envelope.substr(0, header.size()), header);
    EXPECT_EQ(HexEncode(HeaderHash(header)), c["header_hash"].get<std::string>());
    const std::string key_bytes = Bin(c["content_key"]);
    SecureBuffer key(reinterpret_cast<const uint8_t*>(key_bytes.data()),
                     key_bytes.size());
    EXPECT_EQ(HexEncode(KeyCommitment(key, Bin(c["ephemeral_public"]),
                                      Bin(c["payload_nonce"]))),
              c["key_commitment"].get<std::string>());
    X25519PrivateKey eph = *X25519PrivateKey::FromBytes(Bin(c["ephemeral_secret"]));
    ASSERT_OK_AND_ASSIGN(ParsedEnvelope parsed, ParseEnvelope(envelope));
    for (size_t i = 0; i < devices.size(); ++i) {
      const Device& d = devices[i];
      const json& r = c["recipients"][i];
      ASSERT_OK_AND_ASSIGN(SecureBuffer dh1,
                           X25519SharedSecret(eph, d.spk.prekey.public_key));
      EXPECT_EQ(HexEncode(dh1.view()), r["dh_signed"].get<std::string>());
      SecureBuffer dh2;
      if (d.otpk) {
        ASSERT_OK_AND_ASSIGN(dh2,
                             X25519SharedSecret(eph, d.otpk->prekey.public_key));
        EXPECT_EQ(HexEncode(dh2.view()), r["dh_one_time"].get<std::string>());
      }
      SecureBuffer wrap_key = DeriveWrapKey(
          dh1, dh2, HeaderHash(header), eph.public_key(),
          sender.public_key(), parsed.header.recipients[i],
          d.spk.prekey.public_key, d.otpk ? d.otpk->prekey.public_key : "");
      EXPECT_EQ(HexEncode(wrap_key.view()), r["wrap_key"].get<std::string>());
      EXPECT_EQ(HexEncode(parsed.wrapped_keys[i]),
                r["wrapped_key"].get<std::string>());

      std::vector<PrekeyPair> pairs = d.Pairs();
      ASSERT_OK_AND_ASSIGN(OpenedEnvelope opened,
                           OpenEnvelope(envelope, d.identity.public_key(), pairs));
      EXPECT_EQ(opened.payload, payload);
    }
  }
}

TEST_F(VectorsTest, Receipts) {
  const json v = Load("receipt.json");
  ASSERT_FALSE(v.is_discarded());
  Ed25519PrivateKey k = *Ed25519PrivateKey::FromSeed(Bin(v["recipient_seed"]));
  EXPECT_EQ(HexEncode(k.public_key()), v["recipient_public"].get<std::string>());
  const std::string envelope_hash = Bin(v["envelope_hash"]);
  ASSERT_EQ(v["cases"].size(), 3u);
  for (const json& c : v["cases"]) {
    const auto level = static_cast<ReceiptLevel>(c["level"].get<int>());
    const std::string reason = c.contains("reason_hash") ? Bin(c["reason_hash"]) : "";
    ASSERT_OK_AND_ASSIGN(
        std::string receipt,
        SignReceipt(k, envelope_hash, level,
                    absl::FromUnixSeconds(c["time"].get<int64_t>()), reason));
    EXPECT_EQ(HexEncode(receipt), c["receipt"].get<std::string>());
    EXPECT_EQ(ReceiptLevelName(level), c["level_name"].get<std::string>());
    EXPECT_OK(VerifyReceipt(Bin(c["receipt"]), k.public_key(), envelope_hash)
                  .status());
  }
}

TEST_F(VectorsTest, Keystore) {
  const json v = Load("keystore.json");
  ASSERT_FALSE(v.is_discarded());
  Device d = RebuildDevice(v["device"]);
  const std::string file = Bin(v["file"]);
  const std::string passphrase = v["passphrase"].get<std::string>();
  ASSERT_OK_AND_ASSIGN(KeystoreContents contents, OpenKeystore(file, passphrase));
  EXPECT_EQ(contents.identity.public_key(), d.identity.public_key());
  ASSERT_EQ(contents.prekeys.size(), 2u);
  EXPECT_EQ(contents.prekeys[0].prekey, d.spk.prekey);
  EXPECT_EQ(contents.prekeys[0].private_key.secret().view(), d.spk.secret);
  EXPECT_EQ(contents.prekeys[1].prekey, d.otpk->prekey);
  EXPECT_EQ(contents.prekeys[1].private_key.secret().view(), d.otpk->secret);

  FixedRandom random(Bin(v["salt"]) + Bin(v["nonce"]));
  ASSERT_OK_AND_ASSIGN(std::string again,
                       SealKeystore(contents, passphrase,
                                    KdfStrength::kInteractive, random));
  EXPECT_EQ(HexEncode(again), v["file"].get<std::string>());
}

}  // namespace
}  // namespace parley
