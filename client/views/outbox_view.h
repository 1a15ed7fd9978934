#ifndef PARLEY_CLIENT_VIEWS_OUTBOX_VIEW_H_
#define PARLEY_CLIENT_VIEWS_OUTBOX_VIEW_H_

// The outbox as the front ends show it (`parley outbox`, the GUI): each
// item with its status. Pure and thread-safe.

#include <string>
#include <vector>

#include "client/core/local_state.h"
#include "nlohmann/json.hpp"

namespace parley {

inline constexpr char kOutboxWaiting[] = "waiting";
inline constexpr char kOutboxWaitingBehindHeld[] = "waiting behind held";
inline constexpr char kOutboxHeld[] = "held";

struct OutboxRow {
  OutboxItem item;
  // kOutboxWaiting, kOutboxWaitingBehindHeld (an earlier item with the
  // same ordering key is held) or kOutboxHeld (refused for good).
  std::string status;
};

// `outbox` in the order queued, each with its status.
std::vector<OutboxRow> DescribeOutbox(const std::vector<OutboxItem>& outbox);

// id, kind, channel, status, created_at, queued_at_ms, attempts,
// last_error, size and (held) held_reason. Never the sealed bytes or the
// plaintext.
nlohmann::json OutboxRowJson(const OutboxRow& row);

}  // namespace parley

#endif  // PARLEY_CLIENT_VIEWS_OUTBOX_VIEW_H_
