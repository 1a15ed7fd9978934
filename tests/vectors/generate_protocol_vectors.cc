// Writes the known-answer vectors of docs/PROTOCOL.md to
// <dir>/{fingerprint,prekey,envelope,receipt,keystore,notification}.json.
// Every secret is drawn from NewDeterministicRandom with a fixed seed and
// recorded in the JSON, so independent implementations can reproduce each
// output from the recorded inputs alone. Deterministic: running it twice
// gives identical files.

#include <array>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "client/deconfliction/notification_content.h"
#include "crypto/domain.h"
#include "crypto/ed25519.h"
#include "crypto/encoding.h"
#include "crypto/envelope.h"
#include "crypto/fingerprint.h"
#include "crypto/keystore.h"
#include "crypto/prekey.h"
#include "crypto/random.h"
#include "crypto/receipt.h"
#include "crypto/rfc3339.h"
#include "crypto/x25519.h"
#include "nlohmann/json.hpp"

namespace parley {
namespace {

using nlohmann::ordered_json;

// Hands out exactly the bytes it was given, in order; aborts if overdrawn.
class FixedRandom final : public Random {
 public:
  explicit FixedRandom(std::string bytes) : bytes_(std::move(bytes)) {}
  void Fill(uint8_t* out, size_t len) override {
    if (len > bytes_.size() - pos_) {
      std::cerr << "FixedRandom exhausted\n";
      std::abort();
    }
    std::memcpy(out, bytes_.data() + pos_, len);
    pos_ += len;
  }

 private:
  std::string bytes_;
  size_t pos_ = 0;
};

template <typename T>
T Check(absl::StatusOr<T> v) {
  if (!v.ok()) {
    std::cerr << v.status() << "\n";
    std::exit(1);
  }
  return *std::move(v);
}

constexpr int64_t kT0 = 1'790'000'000;  // 2026-09-21T13:46:40Z

std::string Hex(std::string_view b) { return HexEncode(b); }

struct Device {
  std::string seed;
  Ed25519PrivateKey identity;
  std::string spk_secret;
  SignedPrekey spk;
  std::string otpk_secret;  // empty if none
  SignedPrekey otpk;
};

// Builds a prekey from an explicit secret, exactly as GeneratePrekey would.
SignedPrekey SignPrekey(const Ed25519PrivateKey& identity, PrekeyKind kind,
                        uint32_t id, std::string_view secret) {
  FixedRandom r{std::string(secret)};
  return Check(GeneratePrekey(identity, kind, id, absl::FromUnixSeconds(kT0),
                              kMaxPrekeyLifetime, r))
      .prekey;
}

Device MakeDevice(Random& random, uint32_t spk_id, uint32_t otpk_id) {
  std::string seed = random.Bytes(32);
  Device d{seed, Check(Ed25519PrivateKey::FromSeed(seed)), random.Bytes(32),
           {}, "", {}};
  d.spk = SignPrekey(d.identity, PrekeyKind::kSigned, spk_id, d.spk_secret);
  if (otpk_id != 0) {
    d.otpk_secret = random.Bytes(32);
    d.otpk = SignPrekey(d.identity, PrekeyKind::kOneTime, otpk_id,
                        d.otpk_secret);
  }
  return d;
}

ordered_json PrekeyJson(const SignedPrekey& p, std::string_view secret) {
  return {{"kind", static_cast<int>(p.kind)},
          {"key_id", p.key_id},
          {"secret", Hex(secret)},
          {"public_key", Hex(p.public_key)},
          {"created_at", p.created_at},
          {"expires_at", p.expires_at},
          {"signing_input", Hex(SigningInput(kPrekeySignatureTag,
                                             SignedPrekeyBody(p)))},
          {"encoded", Hex(SerializeSignedPrekey(p))}};
}

ordered_json DeviceJson(const Device& d) {
  ordered_json j = {{"identity_seed", Hex(d.seed)},
                    {"identity_public", Hex(d.identity.public_key())},
                    {"signed_prekey", PrekeyJson(d.spk, d.spk_secret)}};
  if (!d.otpk_secret.empty()) {
    j["one_time_prekey"] = PrekeyJson(d.otpk, d.otpk_secret);
  }
  return j;
}

ordered_json Fingerprints() {
  auto random = NewDeterministicRandom("parley/v1 vectors fingerprint");
  ordered_json cases = ordered_json::array();
  std::vector<std::string> keys;
  for (int i = 0; i < 3; ++i) {
    std::string seed = random->Bytes(32);
    Ed25519PrivateKey k = Check(Ed25519PrivateKey::FromSeed(seed));
    keys.push_back(k.public_key());
    cases.push_back({{"identity_public", Hex(k.public_key())},
                     {"fingerprint", Check(IdentityFingerprint(k.public_key()))}});
  }
  return {{"description",
           "IdentityFingerprint and PairFingerprint (docs/PROTOCOL.md, "
           "Fingerprints)"},
          {"identities", cases},
          {"pairs",
           {{{"a", Hex(keys[0])},
             {"b", Hex(keys[1])},
             {"pair_fingerprint", Check(PairFingerprint(keys[0], keys[1]))}},
            {{"a", Hex(keys[2])},
             {"b", Hex(keys[0])},
             {"pair_fingerprint", Check(PairFingerprint(keys[2], keys[0]))}}}}};
}

ordered_json Prekeys() {
  auto random = NewDeterministicRandom("parley/v1 vectors prekey");
  Device d = MakeDevice(*random, 7, 1001);
  SignedPrekey otpk2 = SignPrekey(d.identity, PrekeyKind::kOneTime, 1002,
                                  random->Bytes(32));
  KeyBundle bundle{d.identity.public_key(), d.spk, {d.otpk, otpk2}};
  return {{"description",
           "Signed prekeys and a key bundle (docs/PROTOCOL.md, Signed "
           "prekeys, Key bundles). Valid from created_at for 7 days."},
          {"device", DeviceJson(d)},
          {"key_bundle", Hex(SerializeKeyBundle(bundle))}};
}

ordered_json EnvelopeCase(const std::string& name, Random& random,
                          int recipients_count, bool chained) {
  std::string sender_seed = random.Bytes(32);
  Ed25519PrivateKey sender = Check(Ed25519PrivateKey::FromSeed(sender_seed));
  std::vector<Device> devices;
  std::vector<EnvelopeRecipient> recipients;
  for (int i = 0; i < recipients_count; ++i) {
    devices.push_back(MakeDevice(random, 10 + i, i % 2 == 0 ? 500 + i : 0));
    const Device& d = devices.back();
    EnvelopeRecipient r{d.identity.public_key(), d.spk, std::nullopt};
    if (!d.otpk_secret.empty()) r.one_time_prekey = d.otpk;
    recipients.push_back(r);
  }
  EnvelopeMetadata m;
  m.channel_id = "notification/mv-2026-0042";
  m.client_message_id = random.Bytes(kClientMessageIdSize);
  m.sequence = chained ? 3 : 0;
  m.previous_hash = chained ? random.Bytes(32) : std::string(32, '\0');
  m.created_at = kT0 + 3600;
  m.content_type = "application/vnd.parley.movement+json";
  const std::string payload =
      R"({"movement":"mv-2026-0042","type":"medical","vehicles":2})";

  const std::string content_key = random.Bytes(kContentKeySize);
  const std::string nonce = random.Bytes(kPayloadNonceSize);
  const std::string ephemeral = random.Bytes(kX25519KeySize);
  FixedRandom fixed(content_key + nonce + ephemeral);
  const std::string envelope =
      Check(SealEnvelope(sender, m, recipients, payload, fixed));
  const ParsedEnvelope parsed = Check(ParseEnvelope(envelope));

  // Intermediate values, recomputed for the record.
  X25519PrivateKey eph = Check(X25519PrivateKey::FromBytes(ephemeral));
  SecureBuffer key(reinterpret_cast<const uint8_t*>(content_key.data()),
                   content_key.size());
  ordered_json rj = ordered_json::array();
  for (size_t i = 0; i < devices.size(); ++i) {
    const Device& d = devices[i];
    SecureBuffer dh1 = Check(X25519SharedSecret(eph, d.spk.public_key));
    SecureBuffer dh2;
    if (!d.otpk_secret.empty()) {
      dh2 = Check(X25519SharedSecret(eph, d.otpk.public_key));
    }
    SecureBuffer wrap_key = DeriveWrapKey(
        dh1, dh2, parsed.header_hash, parsed.header.ephemeral_public_key,
        parsed.header.sender_identity, parsed.header.recipients[i],
        d.spk.public_key, d.otpk_secret.empty() ? "" : d.otpk.public_key);
    ordered_json dj = DeviceJson(d);
    dj["dh_signed"] = Hex(dh1.view());
    if (!dh2.empty()) dj["dh_one_time"] = Hex(dh2.view());
    dj["wrap_key"] = Hex(wrap_key.view());
    dj["wrapped_key"] = Hex(parsed.wrapped_keys[i]);
    rj.push_back(dj);
  }
  return {{"name", name},
          {"sender_seed", Hex(sender_seed)},
          {"sender_public", Hex(sender.public_key())},
          {"channel_id", Hex(m.channel_id)},
          {"client_message_id", Hex(m.client_message_id)},
          {"sequence", m.sequence},
          {"previous_hash", Hex(m.previous_hash)},
          {"created_at", m.created_at},
          {"content_type", m.content_type},
          {"payload", Hex(payload)},
          {"content_key", Hex(content_key)},
          {"payload_nonce", Hex(nonce)},
          {"ephemeral_secret", Hex(ephemeral)},
          {"ephemeral_public", Hex(eph.public_key())},
          {"key_commitment", Hex(KeyCommitment(key, eph.public_key(), nonce))},
          {"recipients", rj},
          {"header", Hex(parsed.header_bytes)},
          {"header_hash", Hex(parsed.header_hash)},
          {"envelope", Hex(envelope)},
          {"envelope_hash", Hex(EnvelopeHash(envelope))}};
}

ordered_json Envelopes() {
  auto random = NewDeterministicRandom("parley/v1 vectors envelope");
  ordered_json cases = ordered_json::array();
  cases.push_back(EnvelopeCase("one recipient with one-time prekey", *random,
                               1, false));
  cases.push_back(EnvelopeCase("three recipients, chained", *random, 3, true));
  return {{"description",
           "Sealed envelopes (docs/PROTOCOL.md, Envelopes). SealEnvelope "
           "draws content_key, payload_nonce, ephemeral_secret in that "
           "order; prekeys are valid from 1790000000 for 7 days."},
          {"cases", cases}};
}

ordered_json Receipts() {
  auto random = NewDeterministicRandom("parley/v1 vectors receipt");
  const std::string seed = random->Bytes(32);
  Ed25519PrivateKey k = Check(Ed25519PrivateKey::FromSeed(seed));
  const std::string envelope_hash = random->Bytes(32);
  const std::string reason_hash = random->Bytes(32);
  ordered_json cases = ordered_json::array();
  for (ReceiptLevel level : {ReceiptLevel::kDelivered,
                             ReceiptLevel::kAcknowledged,
                             ReceiptLevel::kObjected}) {
    const bool objected = level == ReceiptLevel::kObjected;
    const int64_t time = kT0 + 7200 + static_cast<int>(level);
    ordered_json c = {{"level", static_cast<int>(level)},
                      {"level_name", std::string(ReceiptLevelName(level))},
                      {"time", time}};
    if (objected) c["reason_hash"] = Hex(reason_hash);
    c["receipt"] = Hex(Check(SignReceipt(k, envelope_hash, level,
                                         absl::FromUnixSeconds(time),
                                         objected ? reason_hash : "")));
    cases.push_back(c);
  }
  return {{"description", "Signed receipts (docs/PROTOCOL.md, Receipts)"},
          {"recipient_seed", Hex(seed)},
          {"recipient_public", Hex(k.public_key())},
          {"envelope_hash", Hex(envelope_hash)},
          {"cases", cases}};
}

ordered_json Keystore() {
  auto random = NewDeterministicRandom("parley/v1 vectors keystore");
  Device d = MakeDevice(*random, 3, 44);
  KeystoreContents contents{Check(Ed25519PrivateKey::FromSeed(d.seed)), {}};
  contents.prekeys.push_back(
      {d.spk, Check(X25519PrivateKey::FromBytes(d.spk_secret))});
  contents.prekeys.push_back(
      {d.otpk, Check(X25519PrivateKey::FromBytes(d.otpk_secret))});
  const std::string salt = random->Bytes(16);
  const std::string nonce = random->Bytes(24);
  FixedRandom fixed(salt + nonce);
  const std::string passphrase = "correct horse battery staple";
  const std::string file = Check(
      SealKeystore(contents, passphrase, KdfStrength::kInteractive, fixed));
  return {{"description",
           "Keystore file, Argon2id interactive limits (docs/PROTOCOL.md, "
           "Keystore file)"},
          {"passphrase", passphrase},
          {"salt", Hex(salt)},
          {"nonce", Hex(nonce)},
          {"device", DeviceJson(d)},
          {"file", Hex(file)}};
}

// --- Notifications (PROTOCOL.md 15) -----------------------------------------

struct Member {
  std::string name;
  std::string role;
  std::string organisation;
  Device device;
};

absl::Time At(const char* rfc3339) { return Check(ParseRfc3339Utc(rfc3339)); }

MovementContent VectorMovement() {
  MovementContent m;
  m.id = "mv-2026-0042";
  m.version = 1;
  m.supersedes = 0;
  m.organisation = "Example Relief";
  m.contact = {"Duty officer", "+967 1 555 0100", "ops@relief.example",
               "VHF 145.500"};
  m.movement_type = MovementType::kMedical;
  m.route.origin = {15.3694, 44.191, "Warehouse A"};
  m.route.destination = {14.7978, 42.9545, "Hospital B"};
  m.route.waypoints = {{15.05, 43.55, ""}};
  m.route.checkpoints = {{15.2, 43.9, "CP 1"}};
  m.route.holding_points = {{15.1, 43.7, "Fuel station"}};
  m.departure = {At("2026-09-24T05:00:00Z"), At("2026-09-24T06:00:00Z")};
  m.arrival = {At("2026-09-24T13:00:00Z"), At("2026-09-24T15:30:00Z")};
  m.ack_by = At("2026-09-23T05:00:00Z");
  m.return_leg =
      ReturnLeg{{At("2026-09-25T05:00:00Z"), At("2026-09-25T06:00:00Z")},
                {At("2026-09-25T13:00:00Z"), At("2026-09-25T15:30:00Z")},
                std::nullopt};
  m.vehicles = {{2,
                 "ambulance",
                 VehicleProtection::kSoftSkin,
                 "red crescent emblem",
                 {"YE-1234", "YE-1235"}},
                {1, "4x4", VehicleProtection::kArmoured, "", {}}};
  m.cargo = "medical supplies, 1.2 t";
  m.personnel_count = 7;
  m.radio_frequencies = {"145.500 MHz"};
  m.satellite_phones = {"+881 6 555 0199"};
  m.recipients = {"party-south", "party-north"};
  return m;
}

SiteContent VectorSite() {
  SiteContent s;
  s.id = "st-2026-0007";
  s.organisation = "Example Relief";
  s.contact = {"Site manager", "+967 1 555 0110", "", ""};
  s.name = "Hospital B";
  s.site_type = SiteType::kHealthFacility;
  s.critical_infrastructure = true;
  s.polygon = {{{14.797, 42.954, ""},
                {14.797, 42.956, ""},
                {14.799, 42.956, ""},
                {14.799, 42.954, ""},
                {14.797, 42.954, ""}}};
  s.humanitarian_function = "150-bed hospital, surgery and maternity";
  s.submitted_at = At("2026-09-20T00:00:00Z");
  s.markings = "red crescent on the roof";
  s.review_by = At("2026-12-20T00:00:00Z");
  s.recipients = {"party-north"};
  return s;
}

ordered_json MetadataJson(const VisibleMetadata& md) {
  return {{"id", md.id},
          {"kind", md.movement ? "MOVEMENT" : "SITE"},
          {"parties", md.parties},
          {"depart_at", md.depart_at},
          {"ack_by", md.ack_by},
          {"valid_from", md.valid_from},
          {"valid_until", md.valid_until},
          {"emergency", md.emergency}};
}

// Seals `payload` from `sender` to `recipients` (in that order) and records
// every input and intermediate value, as EnvelopeCase does.
ordered_json NotificationEnvelopeCase(
    const std::string& name, Random& random, const Member& sender,
    const std::vector<const Member*>& recipients, const std::string& channel,
    uint64_t sequence, const std::string& previous_hash, int64_t created_at,
    const std::string& content_type, const std::string& payload,
    std::string* envelope_out) {
  std::vector<EnvelopeRecipient> er;
  std::vector<std::string> names;
  for (const Member* r : recipients) {
    er.push_back(
        {r->device.identity.public_key(), r->device.spk, std::nullopt});
    names.push_back(r->name);
  }
  EnvelopeMetadata m;
  m.channel_id = channel;
  m.client_message_id = random.Bytes(kClientMessageIdSize);
  m.sequence = sequence;
  m.previous_hash = previous_hash;
  m.created_at = created_at;
  m.content_type = content_type;
  const std::string content_key = random.Bytes(kContentKeySize);
  const std::string nonce = random.Bytes(kPayloadNonceSize);
  const std::string ephemeral = random.Bytes(kX25519KeySize);
  FixedRandom fixed(content_key + nonce + ephemeral);
  const Ed25519PrivateKey& key = sender.device.identity;
  const std::string envelope = Check(SealEnvelope(key, m, er, payload, fixed));
  const ParsedEnvelope parsed = Check(ParseEnvelope(envelope));
  X25519PrivateKey eph = Check(X25519PrivateKey::FromBytes(ephemeral));
  SecureBuffer ck(reinterpret_cast<const uint8_t*>(content_key.data()),
                  content_key.size());
  ordered_json rj = ordered_json::array();
  for (size_t i = 0; i < recipients.size(); ++i) {
    const Device& d = recipients[i]->device;
    SecureBuffer dh1 = Check(X25519SharedSecret(eph, d.spk.public_key));
    SecureBuffer wrap_key = DeriveWrapKey(
        dh1, SecureBuffer(), parsed.header_hash,
        parsed.header.ephemeral_public_key, parsed.header.sender_identity,
        parsed.header.recipients[i], d.spk.public_key, "");
    rj.push_back({{"member", recipients[i]->name},
                  {"identity_public", Hex(d.identity.public_key())},
                  {"signed_prekey_id", d.spk.key_id},
                  {"dh_signed", Hex(dh1.view())},
                  {"wrap_key", Hex(wrap_key.view())},
                  {"wrapped_key", Hex(parsed.wrapped_keys[i])}});
  }
  *envelope_out = envelope;
  return {{"name", name},
          {"sender", sender.name},
          {"sender_public", Hex(key.public_key())},
          {"channel", channel},
          {"channel_id", Hex(channel)},
          {"client_message_id", Hex(m.client_message_id)},
          {"sequence", sequence},
          {"previous_hash", Hex(previous_hash)},
          {"created_at", created_at},
          {"content_type", content_type},
          {"payload_text", payload},
          {"payload", Hex(payload)},
          {"content_key", Hex(content_key)},
          {"payload_nonce", Hex(nonce)},
          {"ephemeral_secret", Hex(ephemeral)},
          {"ephemeral_public", Hex(eph.public_key())},
          {"key_commitment", Hex(KeyCommitment(ck, eph.public_key(), nonce))},
          {"recipients", rj},
          {"header", Hex(parsed.header_bytes)},
          {"header_hash", Hex(parsed.header_hash)},
          {"envelope", Hex(envelope)},
          {"envelope_hash", Hex(EnvelopeHash(envelope))}};
}

ordered_json Notifications() {
  auto random = NewDeterministicRandom("parley/v1 vectors notification");
  std::vector<Member> members;
  for (const auto& [name, role, org] : std::vector<std::array<const char*, 3>>{
           {"coord-ocha", "coordinator", "ocha"},
           {"mediator-un", "mediator", "un"},
           {"party-north", "party", "north"},
           {"party-south", "party", "south"}}) {
    members.push_back(
        {name, role, org, MakeDevice(*random, 20 + members.size(), 0)});
  }
  const Member& coord = members[0];
  const Member& mediator = members[1];
  const Member& north = members[2];
  const Member& south = members[3];
  ordered_json mj = ordered_json::array();
  for (const Member& m : members) {
    ordered_json d = DeviceJson(m.device);
    mj.push_back({{"name", m.name},
                  {"role", m.role},
                  {"organisation", m.organisation},
                  {"device", d}});
  }
  // Audiences in name order (PROTOCOL.md 12): the parties, every mediator,
  // the issuer's organisation's coordinators.
  const std::vector<const Member*> movement_audience = {&coord, &mediator,
                                                        &north, &south};
  const std::vector<const Member*> site_audience = {&coord, &mediator, &north};
  const std::vector<const Member*> issuer_side = {&coord, &mediator};
  const std::string zeros(32, '\0');
  ordered_json cases = ordered_json::array();
  auto version_case = [&](const std::string& name,
                          const NotificationContent& content,
                          const std::vector<const Member*>& audience,
                          const std::string& previous, int64_t created_at,
                          std::string* envelope) {
    const uint32_t version = ContentVersion(content);
    ordered_json c = NotificationEnvelopeCase(
        name, *random, coord, audience, "n/" + ContentId(content), version - 1,
        previous, created_at, std::string(ContentTypeOf(content)),
        SerializeContent(content), envelope);
    c["kind"] = "version";
    c["version"] = version;
    c["supersedes"] = version - 1;
    c["metadata"] = MetadataJson(ComputeVisibleMetadata(content));
    cases.push_back(c);
  };

  MovementContent mv1 = VectorMovement();
  std::string mv1_envelope;
  version_case("movement version 1", mv1, movement_audience, zeros, kT0 + 3600,
               &mv1_envelope);
  MovementContent mv2 = mv1;
  mv2.version = 2;
  mv2.supersedes = 1;
  mv2.departure = {At("2026-09-24T07:00:00Z"), At("2026-09-24T08:00:00Z")};
  mv2.arrival = {At("2026-09-24T15:00:00Z"), At("2026-09-24T17:30:00Z")};
  mv2.route.checkpoints.push_back({14.95, 43.2, "CP 2"});
  std::string mv2_envelope;
  version_case("movement version 2 (amendment)", mv2, movement_audience,
               EnvelopeHash(mv1_envelope), kT0 + 7200, &mv2_envelope);
  std::string site_envelope;
  version_case("site version 1", VectorSite(), site_audience, zeros, kT0 + 3700,
               &site_envelope);

  // party-north objects to version 2, to the issuer side only.
  const nlohmann::json objection = {{"schema", "parley-objection/v1"},
                                    {"id", mv2.id},
                                    {"version", mv2.version},
                                    {"reason", "Checkpoint CP 2 is closed."}};
  std::string objection_envelope;
  ordered_json oc = NotificationEnvelopeCase(
      "objection to movement version 2", *random, north, issuer_side,
      "n/" + mv2.id + "/objection", 0, zeros, kT0 + 9000,
      "application/vnd.parley.objection+json", objection.dump(),
      &objection_envelope);
  oc["kind"] = "objection";
  const int64_t receipt_time = kT0 + 9001;
  oc["receipt_time"] = receipt_time;
  oc["receipt"] = Hex(Check(
      SignReceipt(north.device.identity, EnvelopeHash(mv2_envelope),
                  ReceiptLevel::kObjected, absl::FromUnixSeconds(receipt_time),
                  EnvelopeHash(objection_envelope))));
  oc["answers_envelope_hash"] = Hex(EnvelopeHash(mv2_envelope));
  cases.push_back(oc);

  const nlohmann::json status = {
      {"schema", "parley-status/v1"},   {"id", mv2.id},
      {"version", mv2.version},         {"status", "departed"},
      {"note", "left with 3 vehicles"}, {"final", false},
      {"at", "2026-09-24T07:05:00Z"}};
  std::string status_envelope;
  ordered_json sc = NotificationEnvelopeCase(
      "status of movement version 2", *random, coord, movement_audience,
      "n/" + mv2.id + "/status", 0, zeros, kT0 + 9600,
      "application/vnd.parley.status+json", status.dump(), &status_envelope);
  sc["kind"] = "status";
  sc["final"] = false;
  cases.push_back(sc);

  const nlohmann::json cancel = {{"schema", "parley-cancel/v1"},
                                 {"id", "st-2026-0007"},
                                 {"version", 1},
                                 {"reason", "The hospital has moved."}};
  std::string cancel_envelope;
  ordered_json cc = NotificationEnvelopeCase(
      "cancellation of site version 1", *random, coord, site_audience,
      "n/st-2026-0007/cancel", 0, zeros, kT0 + 9700,
      "application/vnd.parley.cancel+json", cancel.dump(), &cancel_envelope);
  cc["kind"] = "cancel";
  cases.push_back(cc);

  return {{"description",
           "Notification versions and their side envelopes (docs/PROTOCOL.md "
           "15): a movement, its amendment, a site, an objection with its "
           "receipt, a status and a cancellation. Payloads are what the C++ "
           "client writes (SerializeContent; compact JSON, members in "
           "alphabetical order). Recipients are in member-name order; "
           "prekeys are signed prekeys valid from 1790000000 for 7 days "
           "(the server hands out no one-time prekeys). SealEnvelope draws "
           "content_key, payload_nonce, ephemeral_secret in that order."},
          {"members", mj},
          {"cases", cases}};
}

bool Write(const std::string& dir, const std::string& name,
           const ordered_json& j) {
  const std::string path = dir + "/" + name;
  std::ofstream out(path, std::ios::trunc);
  out << j.dump(2) << "\n";
  out.close();
  if (!out) {
    std::cerr << "cannot write " << path << "\n";
    return false;
  }
  std::cout << "wrote " << path << "\n";
  return true;
}

}  // namespace
}  // namespace parley

int main(int argc, char** argv) {
  using namespace parley;
  if (!InitCrypto().ok()) return 1;
  const std::string dir =
      argc > 1 ? argv[1] : std::string(PARLEY_SOURCE_DIR) + "/tests/vectors/protocol";
  const bool ok = Write(dir, "fingerprint.json", Fingerprints()) &&
                  Write(dir, "prekey.json", Prekeys()) &&
                  Write(dir, "envelope.json", Envelopes()) &&
                  Write(dir, "receipt.json", Receipts()) &&
                  Write(dir, "keystore.json", Keystore()) &&
                  Write(dir, "notification.json", Notifications());
  return ok ? 0 : 1;
}
