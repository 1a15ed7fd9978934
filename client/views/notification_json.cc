#include "client/views/notification_json.h"

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "client/deconfliction/notification_content.h"
#include "crypto/encoding.h"

namespace parley {
namespace {

nlohmann::json TimeJson(int64_t t) {
  return t == 0 ? nlohmann::json(nullptr)
                : nlohmann::json(FormatRfc3339Utc(absl::FromUnixSeconds(t)));
}

nlohmann::json PartyJson(const v1::PartyState& p) {
  return {{"party", p.party()},
          {"state", PartyStateName(p.state())},
          {"logged_at", TimeJson(p.logged_at())},
          {"delivered_at", TimeJson(p.delivered_at())},
          {"acknowledged_receipt_at", TimeJson(p.acknowledged_at())},
          {"objected_at", TimeJson(p.objected_at())},
          {"escalation", EscalationName(p.escalation())},
          {"delivered_index", p.delivered_index()},
          {"answer_index", p.acknowledged_index()}};
}

}  // namespace

std::string OverallStateName(v1::NotificationState::Overall o) {
  switch (o) {
    case v1::NotificationState::PENDING: return "pending";
    case v1::NotificationState::PARTIALLY_ACKNOWLEDGED:
      return "partially-acknowledged";
    case v1::NotificationState::ACKNOWLEDGED_BY_ALL:
      return "acknowledged-by-all";
    case v1::NotificationState::OBJECTED: return "objected";
    case v1::NotificationState::OVERDUE: return "overdue";
    case v1::NotificationState::CANCELLED: return "cancelled";
    case v1::NotificationState::SUPERSEDED: return "superseded";
    case v1::NotificationState::COMPLETED: return "completed";
    case v1::NotificationState::EXPIRED: return "expired";
    default: return "unknown";
  }
}

std::string OverallStateWords(v1::NotificationState::Overall o) {
  switch (o) {
    case v1::NotificationState::PARTIALLY_ACKNOWLEDGED:
      return "partially acknowledged receipt";
    case v1::NotificationState::ACKNOWLEDGED_BY_ALL:
      return "acknowledged receipt by all";
    default: return OverallStateName(o);
  }
}

std::string PartyStateName(v1::PartyState::State s) {
  switch (s) {
    case v1::PartyState::LOGGED: return "logged";
    case v1::PartyState::DELIVERED: return "delivered";
    case v1::PartyState::ACKNOWLEDGED: return "acknowledged-receipt";
    case v1::PartyState::OBJECTED: return "objected";
    default: return "unknown";
  }
}

std::string PartyStateWords(v1::PartyState::State s) {
  return s == v1::PartyState::ACKNOWLEDGED ? "acknowledged receipt"
                                           : PartyStateName(s);
}

bool SiteReviewDue(const v1::NotificationState& n) {
  return n.metadata().kind() == v1::SITE &&
         n.overall() == v1::NotificationState::EXPIRED;
}

nlohmann::json NotificationStateJson(const v1::NotificationState& n) {
  nlohmann::json parties = nlohmann::json::array();
  for (const v1::PartyState& p : n.parties()) parties.push_back(PartyJson(p));
  const v1::NotificationMetadata& m = n.metadata();
  return {{"id", m.id()},
          {"kind", m.kind() == v1::MOVEMENT ? "movement" : "site"},
          {"version", n.version()},
          {"issuer", n.issuer()},
          {"organisation", n.organisation()},
          {"overall", OverallStateName(n.overall())},
          {"review_due", SiteReviewDue(n)},
          {"late", n.late()},
          {"emergency", m.emergency()},
          {"depart_at", TimeJson(m.depart_at())},
          {"ack_by", TimeJson(m.ack_by())},
          {"valid_from", TimeJson(m.valid_from())},
          {"valid_until", TimeJson(m.valid_until())},
          {"log_index", n.log_index()},
          {"entry_indexes", n.entry_indexes()},
          {"parties", parties}};
}

nlohmann::json NotificationViewJson(const NotificationView& view) {
  nlohmann::json j = NotificationStateJson(view.state);
  nlohmann::json versions = nlohmann::json::array();
  for (const auto& v : view.versions) {
    nlohmann::json x = {{"version", v.version},
                        {"log_index", v.log_index},
                        {"logged_at_ms", v.logged_at_ms},
                        {"late", v.late},
                        {"envelope_hash", HexEncode(v.envelope_hash)}};
    if (v.content.has_value()) x["content"] = ContentToJson(*v.content);
    if (!v.error.empty()) x["error"] = v.error;
    versions.push_back(x);
  }
  nlohmann::json events = nlohmann::json::array();
  for (const auto& e : view.events) {
    nlohmann::json x = {{"index", e.index},
                        {"logged_at_ms", e.logged_at_ms},
                        {"kind", e.kind},
                        {"version", e.version},
                        {"member", e.member},
                        {"text", e.text}};
    if (!e.step.empty()) x["step"] = e.step;
    if (!e.error.empty()) x["error"] = e.error;
    events.push_back(x);
  }
  j["versions"] = versions;
  j["events"] = events;
  return j;
}

}  // namespace parley
