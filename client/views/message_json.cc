#include "client/views/message_json.h"

#include "client/core/payloads.h"
#include "crypto/encoding.h"

namespace parley {
namespace {

std::string RelayModeName(RelayMode mode) {
  switch (mode) {
    case RelayMode::kVerbatim:
      return "verbatim";
    case RelayMode::kAnonymous:
      return "anonymous";
    default:
      return "none";
  }
}

}  // namespace

bool IsTextMessage(const StoredMessage& m) {
  return m.content_type == kTextContentType ||
         m.content_type.rfind("text/", 0) == 0;
}

nlohmann::json MessageJson(const StoredMessage& m) {
  nlohmann::json j = {{"type", "message"},
                      {"index", m.index},
                      {"channel", m.channel},
                      {"sender", m.sender},
                      {"sequence", m.sequence},
                      {"created_at", m.created_at},
                      {"logged_at_ms", m.logged_at_ms},
                      {"content_type", m.content_type},
                      {"envelope_hash", HexEncode(m.envelope_hash)}};
  if (!m.error.empty()) {
    j["error"] = m.error;
  } else if (IsTextMessage(m)) {
    j["text"] = m.body;
  } else {
    j["body_base64"] = Base64Encode(m.body);
    j["size"] = m.body.size();
  }
  if (!m.filename.empty()) j["filename"] = m.filename;
  if (m.relay_mode != RelayMode::kNone) {
    nlohmann::json relay = {{"mode", RelayModeName(m.relay_mode)},
                            {"by", m.sender},
                            {"source_index", m.relay_of}};
    if (!m.original_sender.empty()) {
      relay["original_sender"] = m.original_sender;
      relay["original_verified"] = m.original_verified;
    }
    j["relay"] = relay;
  }
  return j;
}

}  // namespace parley
