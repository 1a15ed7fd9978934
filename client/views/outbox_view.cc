#include "client/views/outbox_view.h"

#include <set>

namespace parley {

std::vector<OutboxRow> DescribeOutbox(const std::vector<OutboxItem>& outbox) {
  std::vector<OutboxRow> rows;
  std::set<std::string> held_keys;
  for (const OutboxItem& item : outbox) {
    OutboxRow row{item, kOutboxWaiting};
    if (!item.held.empty()) {
      row.status = kOutboxHeld;
      held_keys.insert(item.channel);
    } else if (held_keys.contains(item.channel)) {
      row.status = kOutboxWaitingBehindHeld;
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

nlohmann::json OutboxRowJson(const OutboxRow& row) {
  const OutboxItem& item = row.item;
  nlohmann::json j = {{"id", item.id},
                      {"kind", item.kind},
                      {"channel", item.channel},
                      {"status", row.status},
                      {"created_at", item.created_at},
                      {"queued_at_ms", item.queued_at_ms},
                      {"attempts", item.attempts},
                      {"last_error", item.last_error},
                      {"size", item.request.size()}};
  if (!item.held.empty()) j["held_reason"] = item.held;
  if (!item.description.empty()) j["description"] = item.description;
  return j;
}

}  // namespace parley
