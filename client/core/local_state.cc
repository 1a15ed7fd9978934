#include "client/core/local_state.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/core/sealed_file.h"
#include "crypto/encoding.h"
#include "crypto/envelope.h"
#include "crypto/file_util.h"
#include "nlohmann/json.hpp"

namespace parley {
namespace {

using Json = nlohmann::json;

constexpr char kIdentityFile[] = "identity.json";
constexpr char kContactsFile[] = "contacts.bin";
constexpr char kStateFile[] = "state.bin";
constexpr char kMessagesFile[] = "messages.bin";
constexpr char kNotificationsFile[] = "notifications.bin";
constexpr char kEntriesFile[] = "entries.bin";
// Plaintext files of clients before state encryption, migrated on open.
constexpr char kLegacyContactsFile[] = "contacts.json";
constexpr char kLegacyStateFile[] = "state.json";
constexpr char kLegacyMessagesFile[] = "messages.jsonl";
constexpr char kLegacyNotificationsFile[] = "notifications.jsonl";
// Associated data binding each sealed file to its role.
constexpr char kContactsRole[] = "parley/v1/state/contacts";
constexpr char kStateRole[] = "parley/v1/state/state";
constexpr char kMessagesRole[] = "parley/v1/state/messages";
constexpr char kNotificationsRole[] = "parley/v1/state/notifications";
constexpr char kEntriesRole[] = "parley/v1/state/entries";

absl::Status Corrupted(const std::string& path, absl::string_view what) {
  return absl::DataLossError(absl::StrCat(
      path, " is corrupted (", what,
      "); restore it from a backup or enroll this device again"));
}

// Reads a JSON object file; nullopt if it does not exist.
absl::StatusOr<std::optional<Json>> ReadJsonFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) {
    if (absl::IsNotFound(text.status())) return std::nullopt;
    return text.status();
  }
  Json json = Json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    return Corrupted(path, "not a JSON object");
  }
  return json;
}

absl::Status WriteJsonFile(const std::string& path, const Json& json) {
  return WriteFileAtomically(path, json.dump(1) + "\n", 0600);
}

absl::StatusOr<Json> ParseJsonObject(const std::string& path,
                                     const std::string& text) {
  Json json = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    return Corrupted(path, "not a JSON object");
  }
  return json;
}

// Hex field of `json` decoded, or an error naming the field.
absl::StatusOr<std::string> HexField(const Json& json, const char* field) {
  auto it = json.find(field);
  if (it == json.end() || !it->is_string()) {
    return absl::InvalidArgumentError(absl::StrCat("missing ", field));
  }
  return HexDecode(it->get<std::string>());
}

absl::StatusOr<std::string> Base64Field(const Json& json, const char* field) {
  auto it = json.find(field);
  if (it == json.end() || !it->is_string()) {
    return absl::InvalidArgumentError(absl::StrCat("missing ", field));
  }
  return Base64Decode(it->get<std::string>());
}

Json MessageToJson(const StoredMessage& m) {
  Json j = {{"index", m.index},
            {"logged_at_ms", m.logged_at_ms},
            {"channel", m.channel},
            {"sender", m.sender},
            {"sequence", m.sequence},
            {"created_at", m.created_at},
            {"content_type", m.content_type},
            {"body", Base64Encode(m.body)},
            {"envelope_hash", HexEncode(m.envelope_hash)},
            {"relay_mode", static_cast<int>(m.relay_mode)},
            {"relay_of", m.relay_of}};
  if (!m.filename.empty()) j["filename"] = m.filename;
  if (!m.original_sender.empty()) {
    j["original_sender"] = m.original_sender;
    j["original_verified"] = m.original_verified;
  }
  if (!m.error.empty()) j["error"] = m.error;
  return j;
}

absl::StatusOr<StoredMessage> MessageFromJson(const Json& j) {
  StoredMessage m;
  try {
    m.index = j.at("index").get<uint64_t>();
    m.logged_at_ms = j.at("logged_at_ms").get<int64_t>();
    m.channel = j.at("channel").get<std::string>();
    m.sender = j.at("sender").get<std::string>();
    m.sequence = j.at("sequence").get<uint64_t>();
    m.created_at = j.at("created_at").get<int64_t>();
    m.content_type = j.at("content_type").get<std::string>();
    m.relay_mode = static_cast<RelayMode>(j.at("relay_mode").get<int>());
    m.relay_of = j.at("relay_of").get<uint64_t>();
    m.filename = j.value("filename", "");
    m.original_sender = j.value("original_sender", "");
    m.original_verified = j.value("original_verified", false);
    m.error = j.value("error", "");
  } catch (const Json::exception& e) {
    return absl::InvalidArgumentError(e.what());
  }
  absl::StatusOr<std::string> body = Base64Field(j, "body");
  if (!body.ok()) return body.status();
  m.body = *std::move(body);
  absl::StatusOr<std::string> hash = HexField(j, "envelope_hash");
  if (!hash.ok()) return hash.status();
  m.envelope_hash = *std::move(hash);
  return m;
}

// Appends `data` and fsyncs. The file is created 0600.
absl::Status AppendBytes(const std::string& path, const std::string& data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
                  0600);
  if (fd < 0) {
    return absl::InternalError(
        absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return absl::InternalError(
          absl::StrCat("cannot write ", path, ": ", std::strerror(err)));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    return absl::InternalError(
        absl::StrCat("cannot sync ", path, ": ", std::strerror(err)));
  }
  ::close(fd);
  return absl::OkStatus();
}

}  // namespace

std::string LocalState::Path(const char* file) const {
  return absl::StrCat(dir_, "/", file);
}

absl::StatusOr<LocalState> LocalState::Open(const std::string& dir,
                                            SecureBuffer state_key) {
  if (state_key.size() != kStateKeySize) {
    return absl::InvalidArgumentError("the state key must be 32 bytes");
  }
  LocalState state(dir, std::move(state_key));
  if (absl::Status s = state.LoadContacts(); !s.ok()) return s;
  if (absl::Status s = state.LoadState(); !s.ok()) return s;
  if (absl::Status s = state.LoadMessageIndexes(); !s.ok()) return s;
  if (absl::Status s = state.LoadNotificationIndexes(); !s.ok()) return s;
  if (absl::Status s = state.MigrateLegacyFiles(); !s.ok()) return s;
  return state;
}

absl::StatusOr<std::optional<std::string>> LocalState::ReadSealed(
    const char* file, const char* role, const char* legacy) {
  const std::string path = Path(file);
  absl::StatusOr<std::string> bytes = ReadFile(path);
  if (bytes.ok()) return OpenSealedFile(key_, role, *bytes, path);
  if (!absl::IsNotFound(bytes.status())) return bytes.status();
  absl::StatusOr<std::string> old = ReadFile(Path(legacy));
  if (old.ok()) {
    legacy_files_.push_back(legacy);
    return std::optional<std::string>(*std::move(old));
  }
  if (!absl::IsNotFound(old.status())) return old.status();
  return std::nullopt;
}

absl::Status LocalState::WriteSealed(const char* file, const char* role,
                                     const std::string& plaintext) const {
  return WriteFileAtomically(Path(file), SealFileBytes(key_, role, plaintext),
                             0600);
}

absl::Status LocalState::MigrateLegacyFiles() {
  if (legacy_files_.empty()) return absl::OkStatus();
  if (absl::Status s = SaveContacts(); !s.ok()) return s;
  if (absl::Status s = SaveState(); !s.ok()) return s;
  for (const std::string& file : legacy_files_) {
    if (::unlink(Path(file.c_str()).c_str()) != 0 && errno != ENOENT) {
      return absl::InternalError(absl::StrCat("cannot remove ", Path(file.c_str()),
                                              ": ", std::strerror(errno)));
    }
  }
  legacy_files_.clear();
  return absl::OkStatus();
}

bool LocalState::HasIdentityIn(const std::string& dir) {
  return ReadFile(absl::StrCat(dir, "/", kIdentityFile)).ok();
}

absl::StatusOr<ProfileIdentity> LocalState::LoadIdentityFrom(
    const std::string& dir) {
  const std::string path = absl::StrCat(dir, "/", kIdentityFile);
  absl::StatusOr<std::optional<Json>> json = ReadJsonFile(path);
  if (!json.ok()) return json.status();
  if (!json->has_value()) {
    return absl::NotFoundError(absl::StrCat(
        "profile ", dir, " has no identity: run `parley enroll --server "
        "HOST:PORT --invite CODE --ca-fingerprint SHA256HEX` first"));
  }
  const Json& j = **json;
  ProfileIdentity id;
  try {
    id.name = j.at("name").get<std::string>();
    absl::StatusOr<MemberRole> role =
        ParseRoleName(j.at("role").get<std::string>());
    if (!role.ok()) return Corrupted(path, role.status().message());
    id.role = *role;
    id.organisation = j.value("organisation", "");
    id.origin = j.at("origin").get<std::string>();
    id.verifier_key = j.at("verifier_key").get<std::string>();
    id.registration_index = j.at("registration_index").get<uint64_t>();
    id.published_prekey_id = j.value("published_prekey_id", 0u);
    id.server_max_message_bytes =
        j.value("server_max_message_bytes", uint64_t{0});
  } catch (const Json::exception& e) {
    return Corrupted(path, e.what());
  }
  absl::StatusOr<std::string> key = HexField(j, "identity_key");
  if (!key.ok() || key->size() != 32) return Corrupted(path, "identity_key");
  id.identity_key = *std::move(key);
  return id;
}

absl::Status LocalState::SaveIdentity(const ProfileIdentity& id) {
  Json j = {{"name", id.name},
            {"role", std::string(RoleName(id.role))},
            {"organisation", id.organisation},
            {"identity_key", HexEncode(id.identity_key)},
            {"origin", id.origin},
            {"verifier_key", id.verifier_key},
            {"registration_index", id.registration_index},
            {"published_prekey_id", id.published_prekey_id},
            {"server_max_message_bytes", id.server_max_message_bytes}};
  return WriteJsonFile(Path(kIdentityFile), j);
}

absl::Status LocalState::LoadContacts() {
  const std::string path = Path(kContactsFile);
  absl::StatusOr<std::optional<std::string>> text =
      ReadSealed(kContactsFile, kContactsRole, kLegacyContactsFile);
  if (!text.ok()) return text.status();
  if (!text->has_value()) return absl::OkStatus();
  absl::StatusOr<Json> json = ParseJsonObject(path, **text);
  if (!json.ok()) return json.status();
  const Json& members = (*json)["members"];
  if (!members.is_object()) return Corrupted(path, "members");
  for (const auto& [name, j] : members.items()) {
    if (!j.is_object()) return Corrupted(path, "members");
    Contact c;
    c.name = name;
    absl::StatusOr<std::string> key = HexField(j, "identity_key");
    if (!key.ok()) return Corrupted(path, key.status().message());
    c.identity_key = *std::move(key);
    if (j.contains("verified_key")) {
      absl::StatusOr<std::string> v = HexField(j, "verified_key");
      if (!v.ok()) return Corrupted(path, v.status().message());
      c.verified_key = *std::move(v);
    }
    if (j.contains("previous_key")) {
      absl::StatusOr<std::string> v = HexField(j, "previous_key");
      if (!v.ok()) return Corrupted(path, v.status().message());
      c.previous_key = *std::move(v);
    }
    contacts_[name] = std::move(c);
  }
  return absl::OkStatus();
}

absl::Status LocalState::SaveContacts() const {
  Json members = Json::object();
  for (const auto& [name, c] : contacts_) {
    Json j = {{"identity_key", HexEncode(c.identity_key)}};
    if (!c.verified_key.empty()) j["verified_key"] = HexEncode(c.verified_key);
    if (!c.previous_key.empty()) j["previous_key"] = HexEncode(c.previous_key);
    members[name] = j;
  }
  return WriteSealed(kContactsFile, kContactsRole,
                     Json{{"members", members}}.dump());
}

absl::Status LocalState::LoadState() {
  const std::string path = Path(kStateFile);
  absl::StatusOr<std::optional<std::string>> text =
      ReadSealed(kStateFile, kStateRole, kLegacyStateFile);
  if (!text.ok()) return text.status();
  if (!text->has_value()) return absl::OkStatus();
  absl::StatusOr<Json> json = ParseJsonObject(path, **text);
  if (!json.ok()) return json.status();
  const Json& j = *json;
  try {
    message_records_ = j.value("message_records", uint64_t{0});
    notification_records_ = j.value("notification_records", uint64_t{0});
    for (const Json& m : j.value("members", Json::array())) {
      CachedMember c;
      c.name = m.at("name").get<std::string>();
      absl::StatusOr<MemberRole> role =
          ParseRoleName(m.at("role").get<std::string>());
      if (!role.ok()) return Corrupted(path, "members");
      c.role = *role;
      c.organisation = m.value("organisation", "");
      c.revoked = m.value("revoked", false);
      cached_members_.push_back(std::move(c));
    }
    if (j.contains("cursor") && !j["cursor"].is_null()) {
      cursor_ = j["cursor"].get<uint64_t>();
    }
    const Json chains = j.value("chains", Json::object());
    for (const auto& [channel, c] : chains.items()) {
      ChainState chain;
      chain.next_sequence = c.at("next_sequence").get<uint64_t>();
      absl::StatusOr<std::string> hash = HexField(c, "last_hash");
      if (!hash.ok() || hash->size() != 32) return Corrupted(path, "last_hash");
      chain.last_hash = *std::move(hash);
      chains_[channel] = std::move(chain);
    }
    if (j.contains("trusted_checkpoint")) {
      const Json& t = j["trusted_checkpoint"];
      trusted_size_ = t.at("size").get<uint64_t>();
      absl::StatusOr<std::string> root = HexField(t, "root");
      if (!root.ok()) return Corrupted(path, "trusted_checkpoint.root");
      trusted_root_ = *std::move(root);
    }
    const Json receipts = j.value("pending_receipts", Json::array());
    for (const Json& r : receipts) {
      PendingReceipt p;
      p.envelope_index = r.at("envelope_index").get<uint64_t>();
      absl::StatusOr<std::string> bytes = Base64Field(r, "receipt");
      if (!bytes.ok()) return Corrupted(path, "pending_receipts");
      p.receipt = *std::move(bytes);
      pending_receipts_.push_back(std::move(p));
    }
    const Json outbox = j.value("outbox", Json::array());
    for (const Json& o : outbox) {
      OutboxItem p;
      p.channel = o.at("channel").get<std::string>();
      p.relay_mode = static_cast<RelayMode>(o.at("relay_mode").get<int>());
      p.relay_of = o.at("relay_of").get<uint64_t>();
      // Older clients called the request "envelope" and had no id.
      absl::StatusOr<std::string> bytes =
          Base64Field(o, o.contains("request") ? "request" : "envelope");
      if (!bytes.ok()) return Corrupted(path, "outbox");
      p.request = *std::move(bytes);
      p.id = o.value("id", "");
      if (p.id.empty()) {
        absl::StatusOr<ParsedEnvelope> parsed = ParseEnvelope(p.request);
        if (!parsed.ok()) return Corrupted(path, "outbox envelope");
        p.id = HexEncode(parsed->header.metadata.client_message_id);
      }
      p.kind = o.value("kind", "send");
      p.description = o.value("description", "");
      p.content_type = o.value("content_type", "");
      if (o.contains("payload")) {
        absl::StatusOr<std::string> payload = Base64Field(o, "payload");
        if (!payload.ok()) return Corrupted(path, "outbox payload");
        p.payload = *std::move(payload);
      }
      p.created_at = o.value("created_at", int64_t{0});
      p.queued_at_ms = o.value("queued_at_ms", int64_t{0});
      p.attempts = o.value("attempts", 0u);
      p.last_error = o.value("last_error", "");
      p.held = o.value("held", "");
      outbox_.push_back(std::move(p));
    }
    const Json members = j.value("channel_members", Json::object());
    for (const auto& [channel, list] : members.items()) {
      channel_members_[channel] = list.get<std::vector<std::string>>();
    }
    const Json bundles = j.value("key_bundles", Json::object());
    for (const auto& [name, b] : bundles.items()) {
      if (!b.is_string()) return Corrupted(path, "key_bundles");
      absl::StatusOr<std::string> bytes = Base64Decode(b.get<std::string>());
      if (!bytes.ok()) return Corrupted(path, "key_bundles");
      key_bundles_[name] = *std::move(bytes);
    }
  } catch (const Json::exception& e) {
    return Corrupted(path, e.what());
  }
  return absl::OkStatus();
}

absl::Status LocalState::SaveState() const {
  Json j = Json::object();
  j["cursor"] = cursor_.has_value() ? Json(*cursor_) : Json(nullptr);
  Json chains = Json::object();
  for (const auto& [channel, c] : chains_) {
    chains[channel] = {{"next_sequence", c.next_sequence},
                       {"last_hash", HexEncode(c.last_hash)}};
  }
  j["chains"] = chains;
  if (trusted_size_ > 0) {
    j["trusted_checkpoint"] = {{"size", trusted_size_},
                               {"root", HexEncode(trusted_root_)}};
  }
  Json receipts = Json::array();
  for (const PendingReceipt& r : pending_receipts_) {
    receipts.push_back({{"envelope_index", r.envelope_index},
                        {"receipt", Base64Encode(r.receipt)}});
  }
  j["pending_receipts"] = receipts;
  Json outbox = Json::array();
  for (const OutboxItem& p : outbox_) {
    Json o = {{"id", p.id},
              {"kind", p.kind},
              {"channel", p.channel},
              {"relay_mode", static_cast<int>(p.relay_mode)},
              {"relay_of", p.relay_of},
              {"request", Base64Encode(p.request)},
              {"created_at", p.created_at},
              {"queued_at_ms", p.queued_at_ms},
              {"attempts", p.attempts}};
    if (!p.description.empty()) o["description"] = p.description;
    if (!p.content_type.empty()) o["content_type"] = p.content_type;
    if (!p.payload.empty()) o["payload"] = Base64Encode(p.payload);
    if (!p.last_error.empty()) o["last_error"] = p.last_error;
    if (!p.held.empty()) o["held"] = p.held;
    outbox.push_back(std::move(o));
  }
  j["outbox"] = outbox;
  j["channel_members"] = channel_members_;
  Json bundles = Json::object();
  for (const auto& [name, b] : key_bundles_) bundles[name] = Base64Encode(b);
  j["key_bundles"] = bundles;
  j["message_records"] = message_records_;
  j["notification_records"] = notification_records_;
  Json members = Json::array();
  for (const CachedMember& m : cached_members_) {
    members.push_back({{"name", m.name},
                       {"role", std::string(RoleName(m.role))},
                       {"organisation", m.organisation},
                       {"revoked", m.revoked}});
  }
  j["members"] = members;
  return WriteSealed(kStateFile, kStateRole, j.dump());
}

absl::Status LocalState::LoadMessageIndexes() {
  const std::string path = Path(kMessagesFile);
  absl::StatusOr<std::string> bytes = ReadFile(path);
  if (bytes.ok()) {
    absl::StatusOr<OpenedRecords> opened =
        OpenRecordLog(key_, kMessagesRole, *bytes, path);
    if (!opened.ok()) return opened.status();
    if (opened->records.size() < message_records_) {
      return Corrupted(path, absl::StrCat("it holds ", opened->records.size(),
                                          " messages, not the ",
                                          message_records_, " committed"));
    }
    if (opened->valid_size < bytes->size()) {
      // A partial last record left by a crash during an append: its entry
      // was never committed (the cursor did not move), so it comes again.
      if (::truncate(path.c_str(), static_cast<off_t>(opened->valid_size)) !=
          0) {
        return absl::InternalError(
            absl::StrCat("cannot repair ", path, ": ", std::strerror(errno)));
      }
    }
    for (const std::string& record : opened->records) {
      Json j = Json::parse(record, nullptr, /*allow_exceptions=*/false);
      if (j.is_discarded()) return Corrupted(path, "a record is not JSON");
      absl::StatusOr<StoredMessage> m = MessageFromJson(j);
      if (!m.ok()) return Corrupted(path, m.status().message());
      message_indexes_.insert(m->index);
    }
    message_records_ = opened->records.size();
    return absl::OkStatus();
  }
  if (!absl::IsNotFound(bytes.status())) return bytes.status();
  if (message_records_ > 0) {
    return Corrupted(path, "the file is missing");
  }
  // Messages of an older client: seal them into messages.bin.
  const std::string legacy = Path(kLegacyMessagesFile);
  absl::StatusOr<std::string> text = ReadFile(legacy);
  if (!text.ok()) {
    return absl::IsNotFound(text.status()) ? absl::OkStatus() : text.status();
  }
  std::string sealed(kRecordLogMagic);
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    if (line.empty()) continue;
    Json j = Json::parse(std::string(line), nullptr, false);
    if (j.is_discarded()) continue;  // a partial last line
    absl::StatusOr<StoredMessage> m = MessageFromJson(j);
    if (!m.ok()) return Corrupted(legacy, m.status().message());
    message_indexes_.insert(m->index);
    sealed += SealRecord(key_, kMessagesRole, j.dump());
    ++message_records_;
  }
  if (absl::Status s = WriteFileAtomically(path, sealed, 0600); !s.ok()) {
    return s;
  }
  legacy_files_.push_back(kLegacyMessagesFile);
  return absl::OkStatus();
}

absl::Status LocalState::LoadNotificationIndexes() {
  const std::string path = Path(kNotificationsFile);
  absl::StatusOr<std::string> bytes = ReadFile(path);
  if (bytes.ok()) {
    absl::StatusOr<OpenedRecords> opened =
        OpenRecordLog(key_, kNotificationsRole, *bytes, path);
    if (!opened.ok()) return opened.status();
    if (opened->records.size() < notification_records_) {
      return Corrupted(path, absl::StrCat("it holds ", opened->records.size(),
                                          " notifications, not the ",
                                          notification_records_,
                                          " committed"));
    }
    if (opened->valid_size < bytes->size() &&
        ::truncate(path.c_str(), static_cast<off_t>(opened->valid_size)) !=
            0) {
      return absl::InternalError(
          absl::StrCat("cannot repair ", path, ": ", std::strerror(errno)));
    }
    for (const std::string& record : opened->records) {
      Json j = Json::parse(record, nullptr, /*allow_exceptions=*/false);
      if (!j.is_object() || !j.contains("index") ||
          !j["index"].is_number_unsigned()) {
        return Corrupted(path, "a record is not a notification");
      }
      notification_indexes_.insert(j["index"].get<uint64_t>());
    }
    notification_records_ = opened->records.size();
    return absl::OkStatus();
  }
  if (!absl::IsNotFound(bytes.status())) return bytes.status();
  if (notification_records_ > 0) return Corrupted(path, "the file is missing");
  // The plaintext cache of an older client: seal it into
  // notifications.bin (MigrateLegacyFiles then removes it).
  const std::string legacy = Path(kLegacyNotificationsFile);
  absl::StatusOr<std::string> text = ReadFile(legacy);
  if (!text.ok()) {
    return absl::IsNotFound(text.status()) ? absl::OkStatus() : text.status();
  }
  std::string sealed(kRecordLogMagic);
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    if (line.empty()) continue;
    Json j = Json::parse(std::string(line), nullptr, false);
    if (j.is_discarded()) continue;  // a torn last line after a crash
    if (!j.is_object() || !j.contains("index") ||
        !j["index"].is_number_unsigned()) {
      return Corrupted(legacy, "a line is not a notification");
    }
    const uint64_t index = j["index"].get<uint64_t>();
    if (!notification_indexes_.insert(index).second) continue;
    sealed += SealRecord(key_, kNotificationsRole, j.dump());
    ++notification_records_;
  }
  if (absl::Status s = WriteFileAtomically(path, sealed, 0600); !s.ok()) {
    return s;
  }
  legacy_files_.push_back(kLegacyNotificationsFile);
  return absl::OkStatus();
}

absl::Status LocalState::AppendNotification(uint64_t index,
                                            const std::string& record) {
  if (HasNotification(index)) return absl::OkStatus();
  const std::string path = Path(kNotificationsFile);
  std::string bytes = SealRecord(key_, kNotificationsRole, record);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || st.st_size == 0) {
    bytes = std::string(kRecordLogMagic) + bytes;
  }
  if (absl::Status s = AppendBytes(path, bytes); !s.ok()) return s;
  notification_indexes_.insert(index);
  ++notification_records_;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> LocalState::NotificationRecords()
    const {
  const std::string path = Path(kNotificationsFile);
  absl::StatusOr<std::string> bytes = ReadFile(path);
  if (!bytes.ok()) {
    if (absl::IsNotFound(bytes.status())) return std::vector<std::string>();
    return bytes.status();
  }
  absl::StatusOr<OpenedRecords> opened =
      OpenRecordLog(key_, kNotificationsRole, *bytes, path);
  if (!opened.ok()) return opened.status();
  return std::move(opened->records);
}

absl::Status LocalState::LoadVerifiedEntries() {
  verified_entries_.emplace();
  const std::string path = Path(kEntriesFile);
  absl::StatusOr<std::string> bytes = ReadFile(path);
  if (!bytes.ok()) {
    return absl::IsNotFound(bytes.status()) ? absl::OkStatus()
                                            : bytes.status();
  }
  absl::StatusOr<OpenedRecords> opened =
      OpenRecordLog(key_, kEntriesRole, *bytes, path);
  if (!opened.ok()) {
    verified_entries_.reset();
    return opened.status();
  }
  if (opened->valid_size < bytes->size() &&
      ::truncate(path.c_str(), static_cast<off_t>(opened->valid_size)) != 0) {
    return absl::InternalError(
        absl::StrCat("cannot repair ", path, ": ", std::strerror(errno)));
  }
  for (const std::string& record : opened->records) {
    if (record.size() < 8) {
      verified_entries_.reset();
      return Corrupted(path, "a record is too short");
    }
    uint64_t index = 0;
    for (int i = 0; i < 8; ++i) {
      index = (index << 8) | static_cast<uint8_t>(record[i]);
    }
    (*verified_entries_)[index] = record.substr(8);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> LocalState::VerifiedEntry(
    uint64_t index) {
  if (!verified_entries_.has_value()) {
    if (absl::Status s = LoadVerifiedEntries(); !s.ok()) return s;
  }
  auto it = verified_entries_->find(index);
  if (it == verified_entries_->end()) return std::nullopt;
  return it->second;
}

absl::Status LocalState::AddVerifiedEntries(
    const std::vector<std::pair<uint64_t, std::string>>& entries) {
  if (!verified_entries_.has_value()) {
    if (absl::Status s = LoadVerifiedEntries(); !s.ok()) return s;
  }
  const std::string path = Path(kEntriesFile);
  std::string bytes;
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || st.st_size == 0) {
    bytes = std::string(kRecordLogMagic);
  }
  std::vector<std::pair<uint64_t, std::string>> added;
  for (const auto& [index, leaf] : entries) {
    if (verified_entries_->contains(index)) continue;
    std::string record(8, '\0');
    for (int i = 0; i < 8; ++i) {
      record[i] = static_cast<char>((index >> (56 - 8 * i)) & 0xff);
    }
    record += leaf;
    bytes += SealRecord(key_, kEntriesRole, record);
    added.emplace_back(index, leaf);
  }
  if (added.empty()) return absl::OkStatus();
  if (absl::Status s = AppendBytes(path, bytes); !s.ok()) return s;
  for (auto& [index, leaf] : added) {
    (*verified_entries_)[index] = std::move(leaf);
  }
  return absl::OkStatus();
}

absl::Status LocalState::CacheMembers(
    const std::vector<CachedMember>& members) {
  auto same = [](const CachedMember& a, const CachedMember& b) {
    return a.name == b.name && a.role == b.role &&
           a.organisation == b.organisation && a.revoked == b.revoked;
  };
  if (members.size() == cached_members_.size() &&
      std::equal(members.begin(), members.end(), cached_members_.begin(),
                 same)) {
    return absl::OkStatus();
  }
  cached_members_ = members;
  return SaveState();
}

absl::StatusOr<std::vector<StoredMessage>> LocalState::Messages() const {
  const std::string path = Path(kMessagesFile);
  absl::StatusOr<std::string> bytes = ReadFile(path);
  if (!bytes.ok()) {
    if (absl::IsNotFound(bytes.status())) return std::vector<StoredMessage>();
    return bytes.status();
  }
  absl::StatusOr<OpenedRecords> opened =
      OpenRecordLog(key_, kMessagesRole, *bytes, path);
  if (!opened.ok()) return opened.status();
  std::vector<StoredMessage> out;
  for (const std::string& record : opened->records) {
    Json j = Json::parse(record, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return Corrupted(path, "a record is not JSON");
    absl::StatusOr<StoredMessage> m = MessageFromJson(j);
    if (!m.ok()) return Corrupted(path, m.status().message());
    out.push_back(*std::move(m));
  }
  return out;
}

absl::StatusOr<std::optional<StoredMessage>> LocalState::FindMessage(
    uint64_t index) const {
  if (!HasMessage(index)) return std::nullopt;
  absl::StatusOr<std::vector<StoredMessage>> all = Messages();
  if (!all.ok()) return all.status();
  for (StoredMessage& m : *all) {
    if (m.index == index) return std::move(m);
  }
  return std::nullopt;
}

std::optional<Contact> LocalState::FindContact(const std::string& name) const {
  auto it = contacts_.find(name);
  if (it == contacts_.end()) return std::nullopt;
  return it->second;
}

std::optional<Contact> LocalState::FindContactByKey(
    const std::string& key) const {
  for (const auto& [name, c] : contacts_) {
    if (c.identity_key == key) return c;
  }
  return std::nullopt;
}

absl::StatusOr<KeyObservation> LocalState::ObserveMemberKey(
    const std::string& name, const std::string& key) {
  auto it = contacts_.find(name);
  KeyObservation result;
  if (it == contacts_.end()) {
    Contact c;
    c.name = name;
    c.identity_key = key;
    contacts_[name] = std::move(c);
    result = KeyObservation::kFirstSeen;
  } else if (it->second.identity_key == key) {
    return KeyObservation::kSame;
  } else {
    it->second.previous_key = it->second.identity_key;
    it->second.identity_key = key;
    result = KeyObservation::kChanged;
  }
  if (absl::Status s = SaveContacts(); !s.ok()) return s;
  return result;
}

absl::Status LocalState::MarkVerified(const std::string& name,
                                      const std::string& key) {
  Contact& c = contacts_[name];
  c.name = name;
  if (c.identity_key != key) {
    if (!c.identity_key.empty()) c.previous_key = c.identity_key;
    c.identity_key = key;
  }
  c.verified_key = key;
  return SaveContacts();
}

absl::Status LocalState::CheckSendable(const std::string& name) const {
  std::optional<Contact> c = FindContact(name);
  if (!c.has_value() || !c->verified_key_changed()) return absl::OkStatus();
  absl::Status s = absl::FailedPreconditionError(absl::StrCat(
      "the identity key of ", name,
      " has CHANGED since you verified it: refusing to encrypt to ", name,
      ". Compare fingerprints out of band (`parley directory`), then run "
      "`parley verify ", name, " FINGERPRINT` with the new fingerprint"));
  s.SetPayload(kKeyChangedPayload, absl::Cord(name));
  return s;
}

ChainState LocalState::Chain(const std::string& channel) const {
  auto it = chains_.find(channel);
  return it == chains_.end() ? ChainState() : it->second;
}

absl::Status LocalState::SetChain(const std::string& channel,
                                  const ChainState& chain) {
  chains_[channel] = chain;
  return SaveState();
}

absl::Status LocalState::SetTrustedCheckpoint(uint64_t size,
                                              const std::string& root) {
  trusted_size_ = size;
  trusted_root_ = root;
  return SaveState();
}

absl::Status LocalState::DropPendingReceipts(size_t n) {
  n = std::min(n, pending_receipts_.size());
  pending_receipts_.erase(pending_receipts_.begin(),
                          pending_receipts_.begin() + n);
  return SaveState();
}

const OutboxItem* LocalState::FindOutboxItem(const std::string& id) const {
  for (const OutboxItem& item : outbox_) {
    if (item.id == id) return &item;
  }
  return nullptr;
}

absl::Status LocalState::AddToOutbox(const OutboxItem& item,
                                     const std::optional<ChainState>& chain) {
  outbox_.push_back(item);
  if (chain.has_value()) chains_[item.channel] = *chain;
  return SaveState();
}

absl::Status LocalState::AddToOutbox(const std::vector<OutboxItem>& items) {
  if (items.empty()) return absl::OkStatus();
  outbox_.insert(outbox_.end(), items.begin(), items.end());
  return SaveState();
}

absl::Status LocalState::ChangeOutbox(const std::set<std::string>& remove,
                                      const std::vector<OutboxItem>& update) {
  bool changed = false;
  for (OutboxItem& p : outbox_) {
    for (const OutboxItem& u : update) {
      if (p.id == u.id) {
        p = u;
        changed = true;
      }
    }
  }
  const size_t before = outbox_.size();
  std::erase_if(outbox_,
                [&](const OutboxItem& p) { return remove.contains(p.id); });
  if (!changed && outbox_.size() == before) return absl::OkStatus();
  return SaveState();
}

absl::Status LocalState::UpdateOutboxItem(const std::string& id,
                                          const OutboxItem& item) {
  for (OutboxItem& p : outbox_) {
    if (p.id == id) {
      p = item;
      return SaveState();
    }
  }
  return absl::NotFoundError(absl::StrCat("nothing queued with id ", id));
}

absl::Status LocalState::RemoveFromOutbox(const std::string& id) {
  const size_t before = outbox_.size();
  std::erase_if(outbox_, [&](const OutboxItem& p) { return p.id == id; });
  if (outbox_.size() == before) return absl::OkStatus();
  return SaveState();
}

std::optional<std::vector<std::string>> LocalState::CachedChannelMembers(
    const std::string& channel) const {
  auto it = channel_members_.find(channel);
  if (it == channel_members_.end()) return std::nullopt;
  return it->second;
}

absl::Status LocalState::CacheChannelMembers(
    const std::string& channel, const std::vector<std::string>& members) {
  auto it = channel_members_.find(channel);
  if (it != channel_members_.end() && it->second == members) {
    return absl::OkStatus();
  }
  channel_members_[channel] = members;
  return SaveState();
}

std::optional<std::string> LocalState::CachedKeyBundle(
    const std::string& name) const {
  auto it = key_bundles_.find(name);
  if (it == key_bundles_.end()) return std::nullopt;
  return it->second;
}

absl::Status LocalState::CacheKeyBundle(const std::string& name,
                                        const std::string& bundle) {
  auto it = key_bundles_.find(name);
  if (it != key_bundles_.end() && it->second == bundle) return absl::OkStatus();
  key_bundles_[name] = bundle;
  return SaveState();
}

absl::Status LocalState::CommitDelivery(
    uint64_t index, const std::optional<StoredMessage>& message,
    const std::optional<PendingReceipt>& receipt) {
  if (message.has_value() && !HasMessage(message->index)) {
    const std::string path = Path(kMessagesFile);
    std::string record =
        SealRecord(key_, kMessagesRole, MessageToJson(*message).dump());
    struct stat st;
    if (::stat(path.c_str(), &st) != 0 || st.st_size == 0) {
      record = std::string(kRecordLogMagic) + record;
    }
    if (absl::Status s = AppendBytes(path, record); !s.ok()) return s;
    message_indexes_.insert(message->index);
    ++message_records_;
  }
  if (receipt.has_value()) pending_receipts_.push_back(*receipt);
  if (!cursor_.has_value() || index > *cursor_) cursor_ = index;
  return SaveState();
}

}  // namespace parley
