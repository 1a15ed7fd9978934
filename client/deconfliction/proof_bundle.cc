#include "client/deconfliction/proof_bundle.h"

#include <algorithm>
#include <map>
#include <set>
#include <variant>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "crypto/ed25519.h"
#include "crypto/encoding.h"
#include "crypto/envelope.h"
#include "crypto/fingerprint.h"
#include "crypto/prekey.h"
#include "crypto/receipt.h"
#include "crypto/statements.h"
#include "nlohmann/json.hpp"
#include "storage/tlog/checkpoint.h"
#include "storage/tlog/log_entry.h"
#include "storage/tlog/note.h"

namespace parley {
namespace {

using json = nlohmann::json;

std::string S(absl::string_view v) { return std::string(v); }
std::string S(std::string_view v) { return std::string(v); }

absl::Status Prefix(const absl::Status& s, std::string_view where) {
  return absl::Status(s.code(),
                      absl::StrCat(std::string(where), ": ", S(s.message())));
}

absl::Status Malformed(std::string_view where, std::string_view problem) {
  return absl::InvalidArgumentError(
      absl::StrCat(std::string(where), ": ", std::string(problem)));
}

// RFC 3339 UTC, with milliseconds when the time has them.
std::string FormatTimeForReport(absl::Time t) {
  if ((t - absl::UnixEpoch()) % absl::Seconds(1) == absl::ZeroDuration()) {
    return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
  }
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

std::string TimeMs(int64_t ms) {
  return FormatTimeForReport(absl::FromUnixMillis(ms));
}

std::string TimeS(int64_t s) {
  return FormatTimeForReport(absl::FromUnixSeconds(s));
}

// Strict, canonical base64: decoding then encoding gives the same text.
absl::StatusOr<std::string> CanonicalBase64(const json& v,
                                            std::string_view where) {
  if (!v.is_string()) return Malformed(where, "must be a base64 string");
  const std::string& text = v.get_ref<const std::string&>();
  absl::StatusOr<std::string> bytes = Base64Decode(text);
  if (!bytes.ok() || Base64Encode(*bytes) != text) {
    return Malformed(where, "is not canonical base64 (RFC 4648, padded)");
  }
  return bytes;
}

// The member of `obj` named `key`, which must exist and be of `type`.
absl::StatusOr<const json*> Member(const json& obj, const char* key,
                                   json::value_t type,
                                   std::string_view where) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    return Malformed(where, absl::StrCat("missing \"", key, "\""));
  }
  bool ok = it->type() == type ||
            (type == json::value_t::number_unsigned &&
             it->type() == json::value_t::number_integer &&
             it->get<int64_t>() >= 0);
  if (!ok) {
    return Malformed(where, absl::StrCat("\"", key, "\" has the wrong type"));
  }
  return &*it;
}

absl::Status ExactKeys(const json& obj, std::set<std::string> keys,
                       std::string_view where) {
  if (!obj.is_object()) return Malformed(where, "must be a JSON object");
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (!keys.contains(it.key())) {
      return Malformed(where, absl::StrCat("unknown member \"", it.key(), "\""));
    }
  }
  if (obj.size() != keys.size()) {
    return Malformed(where, "missing members");
  }
  return absl::OkStatus();
}

struct Entry {
  uint64_t index = 0;
  std::string leaf;
  LogEntry decoded;
  std::string where;  // "entries[3] (index 41)"
};

struct Signer {
  std::string name;
  std::string role;
  std::string key;
  uint64_t registration_index;
};

// Everything verified so far, for the cross-entry checks.
class Verifier {
 public:
  absl::StatusOr<ProofReport> Run(std::string_view text,
                                  const ProofBundleVerifyOptions& options);

 private:
  absl::Status ParseTop(std::string_view text,
                        const ProofBundleVerifyOptions& options);
  absl::Status CheckIdentities();
  absl::Status CheckEntry(const Entry& e);
  // The key `name` had registered at the entry `at`: the identity with that
  // name and the largest registration index below `at`.
  absl::StatusOr<std::string> KeyAt(const std::string& name, uint64_t at,
                                    std::string_view where) const;
  const Entry* At(uint64_t index) const {
    auto it = by_index_.find(index);
    return it == by_index_.end() ? nullptr : &entries_[it->second];
  }
  absl::StatusOr<const ParsedEnvelope*> Envelope(uint64_t index) const {
    auto it = envelopes_.find(index);
    if (it == envelopes_.end()) {
      return absl::InvalidArgumentError("no envelope");
    }
    return &it->second;
  }
  PartyProgressReport* Progress(const std::string& id, uint32_t version,
                                const std::string& party);
  void BuildText();

  ProofReport report_;
  NoteVerifier verifier_;
  std::string checkpoint_;
  std::vector<Entry> entries_;
  std::map<uint64_t, size_t> by_index_;
  std::vector<ProofBundleIdentity> identities_;
  std::map<uint64_t, ParsedEnvelope> envelopes_;  // entry index -> envelope
  // (id, version) -> entry index of the notification version.
  std::map<std::pair<std::string, uint32_t>, uint64_t> versions_;
  std::map<std::pair<std::string, uint32_t>, size_t> version_reports_;
};

absl::Status Verifier::ParseTop(std::string_view text,
                                const ProofBundleVerifyOptions& options) {
  // Duplicate member names are rejected: nlohmann would keep the last one.
  std::vector<std::set<std::string>> seen;
  bool duplicate = false;
  json::parser_callback_t cb = [&](int, json::parse_event_t event,
                                   json& parsed) {
    if (event == json::parse_event_t::object_start) {
      seen.emplace_back();
    } else if (event == json::parse_event_t::object_end) {
      if (!seen.empty()) seen.pop_back();
    } else if (event == json::parse_event_t::key && !seen.empty()) {
      if (!seen.back().insert(parsed.get<std::string>()).second) {
        duplicate = true;
      }
    }
    return true;
  };
  json doc = json::parse(text, cb, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return absl::InvalidArgumentError("bundle: not valid JSON (UTF-8)");
  }
  if (duplicate) {
    return absl::InvalidArgumentError("bundle: a member name is repeated");
  }
  if (absl::Status s = ExactKeys(doc, {"format", "verifier_key", "checkpoint",
                                       "entries", "identities"},
                                 "bundle");
      !s.ok()) {
    return s;
  }
  auto format = Member(doc, "format", json::value_t::string, "bundle");
  if (!format.ok()) return format.status();
  if ((*format)->get<std::string>() != kProofBundleFormat) {
    return Malformed("format", absl::StrCat("is not \"",
                                            std::string(kProofBundleFormat),
                                            "\""));
  }
  auto vkey = Member(doc, "verifier_key", json::value_t::string, "bundle");
  if (!vkey.ok()) return vkey.status();
  report_.verifier_key = (*vkey)->get<std::string>();
  if (!options.expected_verifier_key.empty()) {
    if (report_.verifier_key != options.expected_verifier_key) {
      return absl::UnauthenticatedError(absl::StrCat(
          "verifier_key: the bundle's log key ", report_.verifier_key,
          " is not the expected key ", options.expected_verifier_key));
    }
    report_.verifier_key_pinned = true;
  }
  auto verifier = ParseVerifierKey(report_.verifier_key);
  if (!verifier.ok()) return Prefix(verifier.status(), "verifier_key");
  verifier_ = *verifier;
  auto cp = Member(doc, "checkpoint", json::value_t::string, "bundle");
  if (!cp.ok()) return cp.status();
  checkpoint_ = (*cp)->get<std::string>();
  auto signed_cp = VerifyCheckpointNote(checkpoint_, verifier_, verifier_.name);
  if (!signed_cp.ok()) return Prefix(signed_cp.status(), "checkpoint");
  report_.origin = signed_cp->origin;
  report_.tree_size = signed_cp->size;
  report_.root_hash = signed_cp->root_hash;

  auto entries = Member(doc, "entries", json::value_t::array, "bundle");
  if (!entries.ok()) return entries.status();
  if ((*entries)->empty()) return Malformed("entries", "is empty");
  for (size_t i = 0; i < (*entries)->size(); ++i) {
    const json& e = (**entries)[i];
    std::string where = absl::StrCat("entries[", i, "]");
    if (absl::Status s =
            ExactKeys(e, {"kind", "index", "leaf", "tlog_proof"}, where);
        !s.ok()) {
      return s;
    }
    auto index = Member(e, "index", json::value_t::number_unsigned, where);
    if (!index.ok()) return index.status();
    Entry entry;
    entry.index = (*index)->get<uint64_t>();
    where = absl::StrCat(where, " (index ", entry.index, ")");
    entry.where = where;
    if (!entries_.empty() && entry.index <= entries_.back().index) {
      return Malformed(where, "entries must be in increasing index order, "
                              "without repeats");
    }
    auto kind = Member(e, "kind", json::value_t::string, where);
    if (!kind.ok()) return kind.status();
    auto leafj = Member(e, "leaf", json::value_t::string, where);
    if (!leafj.ok()) return leafj.status();
    auto leaf = CanonicalBase64(**leafj, absl::StrCat(where, ": leaf"));
    if (!leaf.ok()) return leaf.status();
    entry.leaf = std::move(*leaf);
    auto proofj = Member(e, "tlog_proof", json::value_t::string, where);
    if (!proofj.ok()) return proofj.status();
    const std::string& proof_text = (*proofj)->get_ref<const std::string&>();
    auto proof = ParseTlogProof(proof_text);
    if (!proof.ok()) {
      return Prefix(proof.status(), absl::StrCat(where, ": tlog_proof"));
    }
    if (proof->extra.has_value()) {
      return Malformed(absl::StrCat(where, ": tlog_proof"),
                       "carries an \"extra\" line, which bundles must not");
    }
    if (proof->index != entry.index) {
      return Malformed(absl::StrCat(where, ": tlog_proof"),
                       absl::StrCat("is for index ", proof->index));
    }
    if (proof->checkpoint != checkpoint_) {
      return Malformed(absl::StrCat(where, ": tlog_proof"),
                       "is not against the bundle's checkpoint");
    }
    auto verified =
        VerifyTlogProof(proof_text, entry.leaf, verifier_, verifier_.name);
    if (!verified.ok()) {
      return Prefix(verified.status(), absl::StrCat(where, ": tlog_proof"));
    }
    auto decoded = DecodeLogEntry(entry.leaf);
    if (!decoded.ok()) {
      return Prefix(decoded.status(), absl::StrCat(where, ": leaf"));
    }
    entry.decoded = std::move(*decoded);
    std::string expected_kind = S(EntryTypeName(entry.decoded.type()));
    if ((*kind)->get<std::string>() != expected_kind) {
      return Malformed(where, absl::StrCat("kind \"",
                                           (*kind)->get<std::string>(),
                                           "\" but the leaf is ",
                                           expected_kind));
    }
    by_index_[entry.index] = entries_.size();
    entries_.push_back(std::move(entry));
  }

  auto ids = Member(doc, "identities", json::value_t::array, "bundle");
  if (!ids.ok()) return ids.status();
  for (size_t i = 0; i < (*ids)->size(); ++i) {
    const json& j = (**ids)[i];
    std::string where = absl::StrCat("identities[", i, "]");
    if (absl::Status s = ExactKeys(
            j, {"name", "role", "identity_key", "registration_index"}, where);
        !s.ok()) {
      return s;
    }
    ProofBundleIdentity id;
    auto name = Member(j, "name", json::value_t::string, where);
    if (!name.ok()) return name.status();
    id.name = (*name)->get<std::string>();
    auto role = Member(j, "role", json::value_t::string, where);
    if (!role.ok()) return role.status();
    id.role = (*role)->get<std::string>();
    auto keyj = Member(j, "identity_key", json::value_t::string, where);
    if (!keyj.ok()) return keyj.status();
    auto key = CanonicalBase64(**keyj, absl::StrCat(where, ": identity_key"));
    if (!key.ok()) return key.status();
    id.identity_key = *key;
    auto reg = Member(j, "registration_index", json::value_t::number_unsigned,
                      where);
    if (!reg.ok()) return reg.status();
    id.registration_index = (*reg)->get<uint64_t>();
    if (!identities_.empty() &&
        id.registration_index <= identities_.back().registration_index) {
      return Malformed(where, "identities must be in increasing "
                              "registration_index order, without repeats");
    }
    identities_.push_back(std::move(id));
  }
  return absl::OkStatus();
}

absl::Status Verifier::CheckIdentities() {
  // Every registration entry in the bundle: its statement signature and
  // prekeys verify under the key its bundle names.
  std::map<std::string, std::pair<uint64_t, MemberRole>> first_registration;
  for (const Entry& e : entries_) {
    std::string name, key_bundle, signature, statement;
    if (const auto* r = std::get_if<MemberRegistered>(&e.decoded.body)) {
      name = r->name;
      key_bundle = r->key_bundle;
      signature = r->signature;
      statement = EnrollStatement(r->invite_hash, r->name, r->key_bundle);
      first_registration.try_emplace(r->name, e.index, r->role);
    } else if (const auto* k =
                   std::get_if<KeyBundlePublished>(&e.decoded.body)) {
      name = k->name;
      key_bundle = k->key_bundle;
      signature = k->signature;
      statement = RotateStatement(k->name, k->key_bundle);
    } else {
      continue;
    }
    auto bundle = ParseKeyBundle(key_bundle);
    if (!bundle.ok()) return Prefix(bundle.status(), e.where + ": key bundle");
    // The slot and id rules the server applies at enrollment (5.2); the
    // times differ: each prekey is judged at its own created_at below.
    if (absl::Status s = CheckKeyBundleStructure(*bundle); !s.ok()) {
      return Prefix(s, absl::StrCat(e.where, ": registration of ", name));
    }
    if (absl::Status s =
            Ed25519Verify(bundle->identity_public_key, statement, signature);
        !s.ok()) {
      return absl::UnauthenticatedError(absl::StrCat(
          e.where, ": the registration statement of ", name,
          " does not verify under the key it registers"));
    }
    std::vector<SignedPrekey> prekeys = bundle->one_time_prekeys;
    prekeys.push_back(bundle->signed_prekey);
    for (const SignedPrekey& p : prekeys) {
      if (absl::Status s =
              VerifySignedPrekeyAt(bundle->identity_public_key, p,
                                   absl::FromUnixSeconds(p.created_at));
          !s.ok()) {
        return Prefix(s, absl::StrCat(e.where, ": prekey ", p.key_id));
      }
    }
  }
  for (size_t i = 0; i < identities_.size(); ++i) {
    const ProofBundleIdentity& id = identities_[i];
    std::string where = absl::StrCat("identities[", i, "] (", id.name, ")");
    auto role = ParseRoleName(id.role);
    if (!role.ok()) return Prefix(role.status(), where + ": role");
    const Entry* reg = At(id.registration_index);
    if (reg == nullptr) {
      return Malformed(where, absl::StrCat("its registration entry ",
                                           id.registration_index,
                                           " is not in the bundle"));
    }
    std::string name, key_bundle;
    if (const auto* r = std::get_if<MemberRegistered>(&reg->decoded.body)) {
      name = r->name;
      key_bundle = r->key_bundle;
      if (r->role != *role) {
        return Malformed(where, absl::StrCat("role ", id.role,
                                             " but the log registered ",
                                             S(RoleName(r->role))));
      }
    } else if (const auto* k =
                   std::get_if<KeyBundlePublished>(&reg->decoded.body)) {
      name = k->name;
      key_bundle = k->key_bundle;
      auto first = first_registration.find(k->name);
      if (first == first_registration.end() ||
          first->second.first > reg->index) {
        return Malformed(where, absl::StrCat(
                                    "a key rotation needs the member's "
                                    "member-registered entry in the bundle"));
      }
      if (first->second.second != *role) {
        return Malformed(where, absl::StrCat("role ", id.role,
                                             " but the log registered ",
                                             S(RoleName(first->second.second))));
      }
    } else {
      return Malformed(where, absl::StrCat("entry ", id.registration_index,
                                           " is not a registration"));
    }
    if (name != id.name) {
      return Malformed(where, absl::StrCat("entry ", id.registration_index,
                                           " registers ", name, ", not ",
                                           id.name));
    }
    auto bundle = ParseKeyBundle(key_bundle);
    if (!bundle.ok()) return Prefix(bundle.status(), where);
    if (bundle->identity_public_key != id.identity_key) {
      return Malformed(where, absl::StrCat("identity_key is not the key "
                                           "registered at entry ",
                                           id.registration_index));
    }
  }
  report_.identities = identities_;
  return absl::OkStatus();
}

absl::StatusOr<std::string> Verifier::KeyAt(const std::string& name,
                                            uint64_t at,
                                            std::string_view where) const {
  const ProofBundleIdentity* best = nullptr;
  for (const ProofBundleIdentity& id : identities_) {
    if (id.name == name && id.registration_index < at) best = &id;
  }
  if (best == nullptr) {
    return Malformed(where, absl::StrCat("signed by ", name,
                                         ", whose registration before entry ",
                                         at, " is not in the bundle"));
  }
  return best->identity_key;
}

PartyProgressReport* Verifier::Progress(const std::string& id,
                                        uint32_t version,
                                        const std::string& party) {
  auto it = version_reports_.find({id, version});
  if (it == version_reports_.end()) return nullptr;
  for (PartyProgressReport& p : report_.versions[it->second].progress) {
    if (p.party == party) return &p;
  }
  return nullptr;
}

bool IsRecipient(const ParsedEnvelope& env, const std::string& key) {
  for (const EnvelopeRecipientEntry& r : env.header.recipients) {
    if (r.identity_public_key == key) return true;
  }
  return false;
}

absl::Status Verifier::CheckEntry(const Entry& e) {
  const std::string& w = e.where;
  const int64_t ms = e.decoded.logged_at_ms;
  std::string head = absl::StrCat("entry ", e.index, ", logged ", TimeMs(ms),
                                  ": ");
  auto parse_signed = [&](const std::string& bytes, const std::string& signer,
                          std::string_view what)
      -> absl::StatusOr<ParsedEnvelope> {
    std::string where = absl::StrCat(w, ": ", std::string(what));
    auto env = ParseEnvelope(bytes);
    if (!env.ok()) return Prefix(env.status(), where);
    auto key = KeyAt(signer, e.index, where);
    if (!key.ok()) return key.status();
    if (env->header.sender_identity != *key) {
      return absl::UnauthenticatedError(absl::StrCat(
          where, ": signed by a key that is not ", signer, "'s registered key"));
    }
    return env;
  };

  const LogEntry& d = e.decoded;
  if (const auto* r = std::get_if<MemberRegistered>(&d.body)) {
    report_.timeline.push_back(absl::StrCat(head, r->name, " registered as ",
                                            S(RoleName(r->role)), " of ",
                                            r->organisation));
  } else if (const auto* k = std::get_if<KeyBundlePublished>(&d.body)) {
    report_.timeline.push_back(
        absl::StrCat(head, k->name, " published a new key bundle"));
  } else if (const auto* rv = std::get_if<MemberRevoked>(&d.body)) {
    report_.timeline.push_back(absl::StrCat(head, rv->name, " was revoked by ",
                                            rv->revoked_by));
  } else if (const auto* ev = std::get_if<EnvelopeEntry>(&d.body)) {
    auto env = parse_signed(ev->envelope, ev->sender, "envelope");
    if (!env.ok()) return env.status();
    report_.timeline.push_back(absl::StrCat(
        head, ev->sender, " sent envelope ", HexEncode(env->hash).substr(0, 16),
        "... in ", ev->channel));
    envelopes_[e.index] = std::move(*env);
  } else if (const auto* nv = std::get_if<NotificationVersion>(&d.body)) {
    auto env = parse_signed(nv->envelope, nv->issuer, "envelope");
    if (!env.ok()) return env.status();
    if (env->header.metadata.channel_id != NotificationChannel(nv->id)) {
      return Malformed(w, absl::StrCat("envelope channel ",
                                       env->header.metadata.channel_id,
                                       " is not n/", nv->id));
    }
    if (env->header.metadata.sequence != nv->version - 1ull) {
      return Malformed(w, "envelope sequence is not version - 1");
    }
    if (nv->version > 1) {
      auto prev = versions_.find({nv->id, nv->version - 1});
      if (prev == versions_.end()) {
        return Malformed(w, absl::StrCat(nv->id, " version ", nv->version - 1,
                                         " (which this version supersedes) "
                                         "is not in the bundle"));
      }
      if (env->header.metadata.previous_hash != envelopes_[prev->second].hash) {
        return absl::UnauthenticatedError(absl::StrCat(
            w, ": envelope does not chain to version ", nv->version - 1));
      }
    }
    if (versions_.contains({nv->id, nv->version})) {
      return Malformed(w, "a second entry for the same version");
    }
    versions_[{nv->id, nv->version}] = e.index;
    VersionReport v;
    v.id = nv->id;
    v.version = nv->version;
    v.movement = nv->kind == NotificationKind::kMovement;
    v.index = e.index;
    v.logged_at_ms = ms;
    v.issuer = nv->issuer;
    v.parties = nv->parties;
    v.depart_at = nv->depart_at;
    v.ack_by = nv->ack_by;
    v.valid_from = nv->valid_from;
    v.valid_until = nv->valid_until;
    v.emergency = (nv->flags & kNotificationEmergency) != 0;
    v.late = (nv->flags & kNotificationLate) != 0;
    v.envelope_hash = env->hash;
    for (const std::string& p : nv->parties) {
      PartyProgressReport progress;
      progress.party = p;
      v.progress.push_back(std::move(progress));
    }
    version_reports_[{nv->id, nv->version}] = report_.versions.size();
    report_.versions.push_back(std::move(v));
    report_.timeline.push_back(absl::StrCat(
        head, nv->issuer, " notified ", absl::StrJoin(nv->parties, ", "),
        " of ", v.movement ? "movement " : "site ", nv->id, " version ",
        nv->version, (nv->flags & kNotificationEmergency) ? " (emergency)" : "",
        (nv->flags & kNotificationLate) ? " (late: below the required lead time)"
                                         : ""));
    envelopes_[e.index] = std::move(*env);
  } else if (const auto* rc = std::get_if<ReceiptEntry>(&d.body)) {
    std::string where = absl::StrCat(w, ": receipt");
    auto env = Envelope(rc->envelope_index);
    if (!env.ok() || rc->envelope_index >= e.index) {
      return Malformed(where, absl::StrCat("the envelope it is about (entry ",
                                           rc->envelope_index,
                                           ") is not in the bundle"));
    }
    auto key = KeyAt(rc->recipient, e.index, where);
    if (!key.ok()) return key.status();
    auto receipt = VerifyReceipt(rc->receipt, *key, (*env)->hash);
    if (!receipt.ok()) return Prefix(receipt.status(), where);
    if (!IsRecipient(**env, *key)) {
      return absl::PermissionDeniedError(absl::StrCat(
          where, ": ", rc->recipient, " is not a recipient of the envelope"));
    }
    std::string about = absl::StrCat("entry ", rc->envelope_index);
    const auto* nv =
        std::get_if<NotificationVersion>(&At(rc->envelope_index)->decoded.body);
    if (nv != nullptr) {
      about = absl::StrCat(nv->id, " version ", nv->version);
      if (receipt->level == ReceiptLevel::kDelivered) {
        if (PartyProgressReport* p = Progress(nv->id, nv->version,
                                              rc->recipient);
            p != nullptr && !p->delivered_index) {
          p->delivered_index = e.index;
          p->delivered_logged_ms = ms;
          p->delivered_signed_at = receipt->time;
        }
      }
    }
    const std::string signed_at =
        absl::StrCat(" (signed at ", TimeS(receipt->time),
                     ", the device's clock)");
    if (receipt->level == ReceiptLevel::kDelivered) {
      report_.timeline.push_back(absl::StrCat(
          head, "a device of ", rc->recipient, " signed a delivered receipt for ",
          about, signed_at));
    } else {
      // Only a notification-ack entry answers a notification (16.3); the
      // server no longer logs these for notifications, older logs may.
      report_.timeline.push_back(absl::StrCat(
          head, "a device of ", rc->recipient, " signed a receipt of level ",
          S(ReceiptLevelName(receipt->level)), " for ", about, signed_at,
          nv != nullptr ? ", through SubmitReceipts: not an acknowledgement "
                          "of the notification (only a notification-ack "
                          "entry is)"
                        : ""));
    }
  } else if (const auto* na = std::get_if<NotificationAck>(&d.body)) {
    std::string where = absl::StrCat(w, ": receipt");
    auto v = versions_.find({na->id, na->version});
    if (v == versions_.end()) {
      return Malformed(w, absl::StrCat(na->id, " version ", na->version,
                                       " is not in the bundle"));
    }
    const ParsedEnvelope& env = envelopes_[v->second];
    auto key = KeyAt(na->party, e.index, where);
    if (!key.ok()) return key.status();
    auto receipt = VerifyReceipt(na->receipt, *key, env.hash);
    if (!receipt.ok()) return Prefix(receipt.status(), where);
    if (!IsRecipient(env, *key)) {
      return absl::PermissionDeniedError(absl::StrCat(
          where, ": ", na->party, " is not a recipient of the notification"));
    }
    bool objected = receipt->level == ReceiptLevel::kObjected;
    if (receipt->level == ReceiptLevel::kDelivered) {
      return Malformed(where, "an acknowledgement entry holds a delivery "
                              "receipt");
    }
    if (objected) {
      auto reason = parse_signed(na->reason_envelope, na->party,
                                 "reason_envelope");
      if (!reason.ok()) return reason.status();
      if (reason->hash != receipt->reason_hash) {
        return absl::UnauthenticatedError(absl::StrCat(
            w, ": the objection's reason envelope is not the one the receipt "
               "names"));
      }
    } else if (!na->reason_envelope.empty()) {
      return Malformed(w, "a reason envelope without an objection");
    }
    VersionReport& version =
        report_.versions[version_reports_.at({na->id, na->version})];
    if (std::find(version.parties.begin(), version.parties.end(),
                  na->party) == version.parties.end()) {
      // Signed, but not by one of the version's parties (e.g. the issuer,
      // who is a recipient too): never a party's answer (16.3).
      version.non_party_answers.push_back(
          {na->party, e.index, objected, ms, receipt->time});
      report_.timeline.push_back(absl::StrCat(
          head, na->party, ", who is not a party to ", na->id, " version ",
          na->version, ", signed an answer of level ",
          S(ReceiptLevelName(receipt->level)), " for it (signed at ",
          TimeS(receipt->time),
          ", the device's clock): NOT counted as a party's answer; the "
          "server logs answers from the version's parties only"));
      return absl::OkStatus();
    }
    if (PartyProgressReport* p = Progress(na->id, na->version, na->party);
        p != nullptr && !p->answer_index) {
      p->answer_index = e.index;
      p->objected = objected;
      p->answer_logged_ms = ms;
      p->answer_signed_at = receipt->time;
    }
    report_.timeline.push_back(absl::StrCat(
        head, na->party,
        objected ? " objected to " : " acknowledged receipt of ", na->id,
        " version ", na->version, " (signed at ", TimeS(receipt->time),
        objected ? "; the reason is encrypted to the coordinators and "
                   "mediators)"
                 : ")"));
  } else if (const auto* es = std::get_if<Escalation>(&d.body)) {
    if (!versions_.contains({es->id, es->version})) {
      return Malformed(w, absl::StrCat(es->id, " version ", es->version,
                                       " is not in the bundle"));
    }
    if (es->step == EscalationStep::kReviewDue) {
      // Not a party's deadline: the issuer is asked to review a site.
      VersionReport& v =
          report_.versions[version_reports_.at({es->id, es->version})];
      if (!v.review_due_index) {
        v.review_due_index = e.index;
        v.review_due_logged_ms = ms;
        v.review_due_to = es->party;
      }
      report_.timeline.push_back(absl::StrCat(
          head, "review due: ", es->party, " is asked to review ",
          v.movement ? "movement " : "site ", es->id, " version ",
          es->version, " (review-by ", TimeS(es->deadline), ")"));
      return absl::OkStatus();
    }
    static constexpr const char* kSteps[] = {"", "reminder", "escalation",
                                             "second escalation"};
    int step = static_cast<int>(es->step);
    if (PartyProgressReport* p = Progress(es->id, es->version, es->party)) {
      p->escalation = std::max(p->escalation, step);
    }
    report_.timeline.push_back(absl::StrCat(
        head, step >= 1 && step <= 3 ? kSteps[step] : "escalation",
        " for ", es->party, " on ", es->id, " version ", es->version,
        " (acknowledge-by ", TimeS(es->deadline), ")"));
  } else if (const auto* nc = std::get_if<NotificationCancelled>(&d.body)) {
    if (!nc->reason_envelope.empty()) {
      auto reason = parse_signed(nc->reason_envelope, nc->cancelled_by,
                                 "reason_envelope");
      if (!reason.ok()) return reason.status();
    }
    report_.timeline.push_back(absl::StrCat(head, nc->cancelled_by,
                                            " cancelled ", nc->id, " version ",
                                            nc->version));
  } else if (const auto* ns = std::get_if<NotificationStatus>(&d.body)) {
    auto env = parse_signed(ns->envelope, ns->posted_by, "envelope");
    if (!env.ok()) return env.status();
    report_.timeline.push_back(absl::StrCat(
        head, ns->posted_by, " posted ", ns->final ? "the outcome" : "a status",
        " of ", ns->id, " version ", ns->version,
        " (end-to-end encrypted)"));
  } else {
    report_.timeline.push_back(absl::StrCat(
        head, S(EntryTypeName(d.type())),
        " (attested by the log's signature only)"));
  }
  return absl::OkStatus();
}

void Verifier::BuildText() {
  std::string t;
  absl::StrAppend(&t, "Proof bundle ", std::string(kProofBundleFormat),
                  ": every entry, proof and signature verified.\n");
  absl::StrAppend(&t, "Log ", report_.origin, ", signed checkpoint of ",
                  report_.tree_size, " entries, root ",
                  Base64Encode(report_.root_hash), "\n");
  absl::StrAppend(&t, "Log key ", report_.verifier_key,
                  report_.verifier_key_pinned
                      ? " (matches the expected key)\n"
                      : "\n  NOT compared with an independently known key: "
                        "check it against the key the log publishes.\n");
  absl::StrAppend(&t, "\nIdentities (registered in the log):\n");
  for (const ProofBundleIdentity& id : report_.identities) {
    auto fpr = IdentityFingerprint(id.identity_key);
    const Entry* reg = At(id.registration_index);
    absl::StrAppend(&t, "  ", id.name, " (", id.role, ") registered at entry ",
                    id.registration_index, ", logged ",
                    TimeMs(reg->decoded.logged_at_ms), "\n    fingerprint ",
                    fpr.ok() ? *fpr : "?", "\n");
  }
  for (const VersionReport& v : report_.versions) {
    absl::StrAppend(&t, "\n", v.movement ? "Movement " : "Site ", v.id,
                    " version ", v.version, " from ", v.issuer,
                    ", logged ", TimeMs(v.logged_at_ms), " (entry ", v.index,
                    ")", v.emergency ? ", emergency" : "",
                    v.late ? ", LATE (below the required lead time)" : "",
                    "\n");
    if (v.depart_at != 0) {
      absl::StrAppend(&t, "  departure ", TimeS(v.depart_at), "\n");
    }
    if (v.ack_by != 0) {
      absl::StrAppend(&t, "  acknowledge by ", TimeS(v.ack_by), "\n");
    }
    if (!v.movement && v.valid_until != 0) {
      absl::StrAppend(&t, "  review by ", TimeS(v.valid_until), "\n");
    }
    if (v.review_due_index) {
      absl::StrAppend(&t, "  review due: reminder to ", v.review_due_to,
                      " logged ",
                      TimeMs(v.review_due_logged_ms), " (entry ",
                      *v.review_due_index, ")\n");
    }
    absl::StrAppend(&t, "  envelope hash ", HexEncode(v.envelope_hash), "\n");
    for (const PartyProgressReport& p : v.progress) {
      absl::StrAppend(&t, "  ", p.party, ": notified");
      if (p.delivered_index) {
        absl::StrAppend(&t, "; delivered, logged ",
                        TimeMs(p.delivered_logged_ms), " (entry ",
                        *p.delivered_index, ")");
      } else {
        absl::StrAppend(&t, "; no delivery receipt in this bundle");
      }
      if (p.answer_index) {
        absl::StrAppend(&t, p.objected ? "; objected" : "; acknowledged receipt",
                        ", logged ", TimeMs(p.answer_logged_ms), " (entry ",
                        *p.answer_index, ")");
      } else {
        absl::StrAppend(&t, "; no acknowledgement in this bundle");
      }
      if (p.escalation > 0) {
        absl::StrAppend(&t, "; escalation step ", p.escalation, " logged");
      }
      absl::StrAppend(&t, "\n");
    }
    for (const NonPartyAnswer& a : v.non_party_answers) {
      absl::StrAppend(&t, "  answer from a non-party, NOT counted: ",
                      a.member, " signed level ",
                      a.objected ? "objected" : "acknowledged", ", logged ",
                      TimeMs(a.logged_ms), " (entry ", a.index, ")\n");
    }
  }
  absl::StrAppend(&t, "\nTimeline (log order):\n");
  for (const std::string& line : report_.timeline) {
    absl::StrAppend(&t, "  ", line, "\n");
  }
  absl::StrAppend(&t,
                  "\nAcknowledged receipt means a person at the party "
                  "acknowledged receiving the notification; it is not "
                  "approval. This bundle shows what was logged; it cannot "
                  "show that nothing else was.\n");
  report_.text = std::move(t);
}

absl::StatusOr<ProofReport> Verifier::Run(
    std::string_view text, const ProofBundleVerifyOptions& options) {
  if (absl::Status s = ParseTop(text, options); !s.ok()) return s;
  if (absl::Status s = CheckIdentities(); !s.ok()) return s;
  for (const Entry& e : entries_) {
    if (absl::Status s = CheckEntry(e); !s.ok()) return s;
  }
  BuildText();
  return std::move(report_);
}

}  // namespace

absl::StatusOr<ProofReport> VerifyProofBundle(
    std::string_view json_text, const ProofBundleVerifyOptions& options) {
  Verifier v;
  return v.Run(json_text, options);
}

absl::StatusOr<std::vector<ProofBundleIdentity>> IdentitiesFromEntries(
    const std::vector<ProofBundleEntry>& entries) {
  std::vector<ProofBundleEntry> sorted = entries;
  std::sort(sorted.begin(), sorted.end(),
            [](const auto& a, const auto& b) { return a.index < b.index; });
  std::map<std::string, MemberRole> roles;
  std::vector<ProofBundleIdentity> out;
  for (const ProofBundleEntry& e : sorted) {
    auto d = DecodeLogEntry(e.leaf);
    if (!d.ok()) return Prefix(d.status(), absl::StrCat("entry ", e.index));
    std::string name, key_bundle;
    if (const auto* r = std::get_if<MemberRegistered>(&d->body)) {
      roles[r->name] = r->role;
      name = r->name;
      key_bundle = r->key_bundle;
    } else if (const auto* k = std::get_if<KeyBundlePublished>(&d->body)) {
      name = k->name;
      key_bundle = k->key_bundle;
    } else {
      continue;
    }
    auto role = roles.find(name);
    if (role == roles.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "entry ", e.index, ": key rotation of ", name,
          " without its member-registered entry"));
    }
    auto bundle = ParseKeyBundle(key_bundle);
    if (!bundle.ok()) {
      return Prefix(bundle.status(), absl::StrCat("entry ", e.index));
    }
    out.push_back({name, S(RoleName(role->second)),
                   bundle->identity_public_key, e.index});
  }
  return out;
}

absl::StatusOr<std::string> BuildProofBundle(
    std::string_view verifier_key, std::string_view checkpoint_note,
    std::vector<ProofBundleEntry> entries,
    std::vector<ProofBundleIdentity> identities) {
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.index < b.index; });
  std::sort(identities.begin(), identities.end(), [](const auto& a,
                                                     const auto& b) {
    return a.registration_index < b.registration_index;
  });
  json doc = json::object();
  doc["format"] = kProofBundleFormat;
  doc["verifier_key"] = std::string(verifier_key);
  doc["checkpoint"] = std::string(checkpoint_note);
  json ej = json::array();
  for (const ProofBundleEntry& e : entries) {
    auto type = PeekEntryType(e.leaf);
    if (!type.ok()) return Prefix(type.status(), absl::StrCat("entry ", e.index));
    ej.push_back(json{{"kind", S(EntryTypeName(*type))},
                      {"index", e.index},
                      {"leaf", Base64Encode(e.leaf)},
                      {"tlog_proof", e.tlog_proof}});
  }
  doc["entries"] = ej;
  json ij = json::array();
  for (const ProofBundleIdentity& id : identities) {
    ij.push_back(json{{"name", id.name},
                      {"role", id.role},
                      {"identity_key", Base64Encode(id.identity_key)},
                      {"registration_index", id.registration_index}});
  }
  doc["identities"] = ij;
  std::string text = doc.dump(1) + "\n";
  auto check = VerifyProofBundle(text);
  if (!check.ok()) {
    return Prefix(check.status(), "the bundle would not verify");
  }
  return text;
}

nlohmann::json ProofReportJson(const ProofReport& report) {
  nlohmann::json versions = nlohmann::json::array();
  for (const VersionReport& v : report.versions) {
    nlohmann::json parties = nlohmann::json::array();
    for (const PartyProgressReport& p : v.progress) {
      parties.push_back(
          {{"party", p.party},
           {"delivered_index", p.delivered_index.has_value()
                                   ? nlohmann::json(*p.delivered_index)
                                   : nlohmann::json(nullptr)},
           {"answer_index", p.answer_index.has_value()
                                ? nlohmann::json(*p.answer_index)
                                : nlohmann::json(nullptr)},
           {"objected", p.objected},
           {"escalation", p.escalation}});
    }
    nlohmann::json non_party = nlohmann::json::array();
    for (const NonPartyAnswer& a : v.non_party_answers) {
      non_party.push_back(
          {{"member", a.member}, {"index", a.index}, {"objected", a.objected}});
    }
    versions.push_back(
        {{"id", v.id},
         {"version", v.version},
         {"index", v.index},
         {"issuer", v.issuer},
         {"late", v.late},
         {"parties", parties},
         {"non_party_answers", non_party},
         {"review_due_index", v.review_due_index.has_value()
                                  ? nlohmann::json(*v.review_due_index)
                                  : nlohmann::json(nullptr)}});
  }
  return {{"verified", true},
          {"origin", report.origin},
          {"tree_size", report.tree_size},
          {"verifier_key_pinned", report.verifier_key_pinned},
          {"versions", versions},
          {"timeline", report.timeline},
          {"report", report.text}};
}

}  // namespace parley
