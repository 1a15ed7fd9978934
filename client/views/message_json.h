#ifndef PARLEY_CLIENT_VIEWS_MESSAGE_JSON_H_
#define PARLEY_CLIENT_VIEWS_MESSAGE_JSON_H_

// A received message as both front ends show it: the CLI's `inbox --json`
// and the GUI's messages API print the same document. Pure.

#include "client/core/local_state.h"
#include "nlohmann/json.hpp"

namespace parley {

// True for text/plain and any other text/ content type: shown as text
// rather than as an attachment.
bool IsTextMessage(const StoredMessage& message);

// {"type": "message", index, channel, sender, sequence, created_at,
// logged_at_ms, content_type, envelope_hash (hex); "error", or "text", or
// "body_base64" and "size"; "filename" if any; "relay" for relayed ones}.
nlohmann::json MessageJson(const StoredMessage& message);

}  // namespace parley

#endif  // PARLEY_CLIENT_VIEWS_MESSAGE_JSON_H_
