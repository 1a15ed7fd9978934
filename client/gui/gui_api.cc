// GuiApi: the JSON API of `parley gui` over one Device. It only calls the
// Device and shapes JSON; the work is the Device's, as for the CLI.

#include <algorithm>
#include <set>
#include <variant>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "client/core/payloads.h"
#include "client/gui/gui.h"
#include "client/gui/gui_forms.h"
#include "client/views/message_json.h"
#include "client/views/notification_json.h"
#include "client/views/notify_flags.h"
#include "client/views/outbox_view.h"
#include "crypto/encoding.h"

namespace parley {
namespace {

// Messages of one channel sent to the page: the newest ones.
constexpr size_t kMaxMessages = 200;
// Notices kept for the status bar.
constexpr size_t kMaxNotices = 20;
// How long a background round may listen for deliveries.
constexpr absl::Duration kSyncRoundLimit = absl::Seconds(20);
constexpr absl::Duration kCaughtUpIdle = absl::Milliseconds(500);
// Characters of a queued message shown in the outbox.
constexpr size_t kPreviewChars = 80;

int64_t NowMillis() { return absl::ToUnixMillis(absl::Now()); }

bool IsUnreachable(const absl::Status& s) {
  return absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s);
}

GuiReply Missing(const std::string& field, const std::string& what) {
  return GuiError(400, "missing_field",
                  absl::StrCat("give \"", field, "\": ", what));
}

// The state JSON with words for people next to the machine names.
nlohmann::json WithWords(nlohmann::json j, const v1::NotificationState& n) {
  j["overall_words"] = OverallStateWords(n.overall());
  for (int i = 0; i < n.parties_size() && i < static_cast<int>(j["parties"].size());
       ++i) {
    j["parties"][i]["state_words"] = PartyStateWords(n.parties(i).state());
  }
  return j;
}

// A refused form: the status's HTTP code and words, the first problem's
// field, and every problem.
GuiReply FormError(const absl::Status& status,
                   const std::vector<FormProblem>& problems) {
  GuiReply reply = GuiErrorFor(status);
  nlohmann::json list = nlohmann::json::array();
  for (const FormProblem& p : problems) {
    list.push_back({{"field", p.field}, {"message", p.message}});
  }
  reply.body["field"] = problems.empty() ? "" : problems.front().field;
  reply.body["problems"] = list;
  return reply;
}

GuiReply FormError(const absl::Status& status) {
  return FormError(status, {FormProblemOf(std::string(status.message()))});
}

std::string Hours(int64_t seconds) {
  if (seconds < 3600 && seconds > -3600) {
    return absl::StrCat((seconds + 30) / 60, " min");
  }
  return absl::StrCat((seconds + 1800) / 3600, " h");
}

SyncOptions CaughtUp() {
  SyncOptions sync;
  sync.wait = kSyncRoundLimit;
  sync.until_caught_up = true;
  sync.idle = kCaughtUpIdle;
  return sync;
}

}  // namespace

GuiApi::GuiApi(Device& device, const Options& options)
    : device_(device), options_(options) {}

GuiApi::~GuiApi() { Stop(); }

void GuiApi::Register(GuiServer& server) {
  auto bind = [this](GuiReply (GuiApi::*method)(const GuiRequest&)) {
    return [this, method](const GuiRequest& r) { return (this->*method)(r); };
  };
  server.HandleGet("/api/status", bind(&GuiApi::Status));
  server.HandleGet("/api/channels", bind(&GuiApi::Channels));
  server.HandleGet("/api/messages", bind(&GuiApi::Messages));
  server.HandlePost("/api/send", bind(&GuiApi::Send));
  server.HandleGet("/api/notifications", bind(&GuiApi::Notifications));
  server.HandleGet("/api/notification", bind(&GuiApi::Notification));
  server.HandlePost("/api/notification/acknowledge",
                    [this](const GuiRequest& r) { return Acknowledge(r, false); });
  server.HandlePost("/api/notification/object",
                    [this](const GuiRequest& r) { return Acknowledge(r, true); });
  server.HandlePost("/api/notification/cancel", bind(&GuiApi::Cancel));
  server.HandlePost("/api/notification/status", bind(&GuiApi::PostStatus));
  server.HandlePost("/api/notify", bind(&GuiApi::Notify));
  server.HandlePost("/api/notification/amend", bind(&GuiApi::Amend));
  server.HandleGet("/api/parties", bind(&GuiApi::Parties));
  server.HandleGet("/api/outbox", bind(&GuiApi::Outbox));
  server.HandlePost("/api/outbox/resend", bind(&GuiApi::OutboxResend));
  server.HandlePost("/api/outbox/drop", bind(&GuiApi::OutboxDrop));
  server.HandlePost("/api/sync", bind(&GuiApi::SyncNow));
  // Who this device is does not change while it runs.
  absl::MutexLock lock(&device_mu_);
  nlohmann::json me = {
      {"name", device_.identity().name},
      {"role", std::string(RoleName(device_.identity().role))},
      {"organisation", device_.identity().organisation},
      {"server", device_.session().pin().address}};
  absl::MutexLock contact_lock(&contact_mu_);
  me_ = std::move(me);
}

void GuiApi::Start() {
  absl::MutexLock lock(&stop_mu_);
  if (syncer_ != nullptr || stopping_) return;
  syncer_ = std::make_unique<std::thread>([this] { SyncLoop(); });
}

void GuiApi::Stop() {
  std::unique_ptr<std::thread> syncer;
  {
    absl::MutexLock lock(&stop_mu_);
    stopping_ = true;
    syncer = std::move(syncer_);
  }
  device_.RequestStop();  // a running Sync returns soon
  if (syncer != nullptr && syncer->joinable()) syncer->join();
}

void GuiApi::SyncLoop() {
  for (;;) {
    {
      absl::MutexLock lock(&stop_mu_);
      if (stopping_) return;
    }
    {
      absl::MutexLock lock(&device_mu_);
      SyncRound();
    }
    absl::MutexLock lock(&stop_mu_);
    if (stop_mu_.AwaitWithTimeout(absl::Condition(&stopping_),
                                  options_.sync_every)) {
      return;
    }
  }
}

void GuiApi::SyncRound() {
  absl::StatusOr<std::vector<std::string>> notes = device_.Maintain();
  if (!notes.ok()) {
    Note(notes.status());
    return;
  }
  AddNotices(*notes);
  absl::Status s = device_.Sync(CaughtUp(), [](const SyncEvent&) {});
  Note(s);
  if (s.ok()) {
    absl::MutexLock lock(&contact_mu_);
    contact_.synced_at_ms = NowMillis();
  }
}

void GuiApi::AddNotices(const std::vector<std::string>& notices) {
  absl::MutexLock lock(&contact_mu_);
  for (const std::string& n : notices) {
    contact_.notices.push_back(absl::StrCat(
        FormatRfc3339Utc(absl::FromUnixSeconds(absl::ToUnixSeconds(
            absl::Now()))),
        "  ", n));
  }
  if (contact_.notices.size() > kMaxNotices) {
    contact_.notices.erase(
        contact_.notices.begin(),
        contact_.notices.end() - static_cast<ptrdiff_t>(kMaxNotices));
  }
}

void GuiApi::CountOutbox() {
  size_t waiting = 0, held = 0;
  for (const OutboxItem& item : device_.state().outbox()) {
    ++(item.held.empty() ? waiting : held);
  }
  absl::MutexLock lock(&contact_mu_);
  contact_.waiting = waiting;
  contact_.held = held;
}

void GuiApi::Note(const absl::Status& call) {
  AddNotices(device_.TakeWarnings());
  CountOutbox();
  absl::MutexLock lock(&contact_mu_);
  if (call.ok()) {
    contact_.known = true;
    contact_.reachable = true;
    contact_.error.clear();
    contact_.checked_at_ms = NowMillis();
  } else if (IsUnreachable(call)) {
    contact_.known = true;
    contact_.reachable = false;
    contact_.error = std::string(call.message());
    contact_.checked_at_ms = NowMillis();
  }
  // Other errors (refusals, validation) say nothing about reachability.
}

// ---------------------------------------------------------------------------
// Handlers

GuiReply GuiApi::Status(const GuiRequest&) {
  absl::MutexLock lock(&contact_mu_);
  nlohmann::json server = {{"address", me_["server"]},
                           {"known", contact_.known},
                           {"reachable", contact_.reachable},
                           {"checked_at_ms", contact_.checked_at_ms},
                           {"synced_at_ms", contact_.synced_at_ms},
                           {"sync_every_seconds",
                            absl::ToInt64Seconds(options_.sync_every)}};
  if (!contact_.error.empty()) server["error"] = contact_.error;
  return GuiReply{200,
                  {{"me", me_},
                   {"server", server},
                   {"outbox", {{"waiting", contact_.waiting},
                               {"held", contact_.held}}},
                   {"notices", contact_.notices}}};
}

GuiReply GuiApi::Channels(const GuiRequest&) {
  absl::MutexLock lock(&device_mu_);
  absl::StatusOr<std::vector<v1::ChannelInfo>> channels =
      device_.ListChannels();
  Note(channels.status());
  nlohmann::json out = nlohmann::json::array();
  if (channels.ok()) {
    for (const v1::ChannelInfo& c : *channels) {
      out.push_back({{"name", c.name()},
                     {"members", std::vector<std::string>(
                                     c.members().begin(), c.members().end())},
                     {"created_by", c.created_by()}});
    }
    return GuiReply{200, {{"channels", out}, {"offline", false}}};
  }
  if (!IsUnreachable(channels.status())) return GuiErrorFor(channels.status());
  // Offline: the channels this device has messages of or work queued for.
  absl::StatusOr<std::vector<StoredMessage>> messages =
      device_.state().Messages();
  if (!messages.ok()) return GuiErrorFor(messages.status());
  std::set<std::string> names;
  for (const StoredMessage& m : *messages) names.insert(m.channel);
  for (const OutboxItem& item : device_.state().outbox()) {
    if (item.kind == "send") names.insert(item.channel);
  }
  for (const std::string& name : names) {
    out.push_back({{"name", name},
                   {"members", nlohmann::json::array()},
                   {"created_by", ""}});
  }
  return GuiReply{200,
                  {{"channels", out},
                   {"offline", true},
                   {"error", std::string(channels.status().message())}}};
}

GuiReply GuiApi::Messages(const GuiRequest& request) {
  const std::string channel = request.Get("channel");
  if (channel.empty()) return Missing("channel", "the channel's name");
  absl::MutexLock lock(&device_mu_);
  absl::StatusOr<std::vector<StoredMessage>> messages =
      device_.state().Messages();
  if (!messages.ok()) return GuiErrorFor(messages.status());
  std::vector<const StoredMessage*> mine;
  for (const StoredMessage& m : *messages) {
    if (m.channel == channel) mine.push_back(&m);
  }
  const size_t skip = mine.size() > kMaxMessages ? mine.size() - kMaxMessages : 0;
  nlohmann::json out = nlohmann::json::array();
  for (size_t i = skip; i < mine.size(); ++i) {
    out.push_back(MessageJson(*mine[i]));
  }
  nlohmann::json queued = nlohmann::json::array();
  for (const OutboxRow& row : DescribeOutbox(device_.state().outbox())) {
    if (row.item.kind != "send" || row.item.channel != channel) continue;
    nlohmann::json j = OutboxRowJson(row);
    if (row.item.content_type == kTextContentType) j["text"] = row.item.payload;
    queued.push_back(j);
  }
  return GuiReply{200,
                  {{"channel", channel},
                   {"messages", out},
                   {"older_not_shown", skip},
                   {"queued", queued}}};
}

GuiReply GuiApi::Send(const GuiRequest& request) {
  const std::string channel = request.Get("channel");
  const std::string text = request.Get("text");
  if (channel.empty()) return Missing("channel", "the channel to send to");
  if (text.empty()) return Missing("text", "the message text");
  absl::MutexLock lock(&device_mu_);
  absl::StatusOr<SendResult> sent =
      device_.Send(channel, kTextContentType, text);
  Note(sent.ok() && sent->queued ? absl::UnavailableError(sent->queued_reason)
                                 : sent.status());
  if (!sent.ok()) return GuiErrorFor(sent.status());
  if (sent->queued) {
    return GuiReply{202,
                    {{"queued", true},
                     {"id", sent->id},
                     {"channel", sent->channel},
                     {"reason", sent->queued_reason},
                     {"message",
                      absl::StrCat("queued, not yet sent: signed and waiting "
                                   "in the outbox (",
                                   sent->queued_reason, ")")}}};
  }
  return GuiReply{200,
                  {{"queued", false},
                   {"id", sent->id},
                   {"channel", sent->channel},
                   {"log_index", sent->log_index},
                   {"duplicate", sent->duplicate},
                   {"message", absl::StrCat("sent: logged at index ",
                                            sent->log_index)}}};
}

GuiReply GuiApi::Notifications(const GuiRequest&) {
  absl::MutexLock lock(&device_mu_);
  absl::StatusOr<std::vector<v1::NotificationState>> list =
      device_.notifications().ListNotifications();
  Note(list.status());
  if (!list.ok()) return GuiErrorFor(list.status());
  nlohmann::json out = nlohmann::json::array();
  for (const v1::NotificationState& n : *list) {
    out.push_back(WithWords(NotificationStateJson(n), n));
  }
  return GuiReply{200, {{"notifications", out}}};
}

GuiReply GuiApi::Notification(const GuiRequest& request) {
  const std::string id = request.Get("id");
  if (id.empty()) return Missing("id", "the notification id");
  absl::MutexLock lock(&device_mu_);
  absl::StatusOr<NotificationView> view =
      device_.notifications().ShowNotification(id);
  Note(view.status());
  if (!view.ok()) return GuiErrorFor(view.status());
  nlohmann::json j = WithWords(NotificationViewJson(*view), view->state);
  // The amend form starts from the current version (issuer only).
  if (device_.identity().role == MemberRole::kCoordinator &&
      view->state.issuer() == device_.identity().name &&
      !view->versions.empty() && view->versions.back().content.has_value()) {
    j["form"] = FormFromContent(*view->versions.back().content);
  }
  return GuiReply{200, j};
}

GuiReply GuiApi::Acknowledge(const GuiRequest& request, bool object) {
  if (auto refused = RequireRole(MemberRole::kParty,
                                 object ? "object to a notification"
                                        : "acknowledge receipt")) {
    return *refused;
  }
  const std::string id = request.Get("id");
  const std::string reason = request.Get("reason");
  if (id.empty()) return Missing("id", "the notification id");
  if (object && reason.empty()) {
    return Missing("reason",
                   "why you object; it is encrypted to the coordinator and "
                   "mediators only");
  }
  absl::MutexLock lock(&device_mu_);
  absl::StatusOr<AckResult> answer =
      device_.notifications().AcknowledgeNotification(id, object ? reason : "");
  Note(answer.ok() && answer->queued
           ? absl::UnavailableError(answer->queued_reason)
           : answer.status());
  if (!answer.ok()) return GuiErrorFor(answer.status());
  const char* level = object ? "objected" : "acknowledged-receipt";
  const std::string what =
      object ? "your objection" : "your acknowledgement of receipt";
  if (answer->queued) {
    return GuiReply{
        202,
        {{"id", id},
         {"level", level},
         {"version", answer->version},
         {"queued", true},
         {"outbox_id", answer->outbox_id},
         {"reason", answer->queued_reason},
         {"message",
          absl::StrCat("queued, not yet sent: ", what, " of ", id,
                       " version ", answer->version,
                       " is signed and waits in the outbox (",
                       answer->queued_reason, ")")}}};
  }
  return GuiReply{
      200,
      {{"id", id},
       {"level", level},
       {"version", answer->version},
       {"queued", false},
       {"log_index", answer->log_index},
       {"duplicate", answer->duplicate},
       {"message",
        object ? absl::StrCat("objected to ", id, " version ",
                              answer->version, " (log index ",
                              answer->log_index,
                              "); the reason is readable by the coordinator "
                              "and mediators only")
               : absl::StrCat("acknowledged receipt of ", id, " version ",
                              answer->version, " (log index ",
                              answer->log_index,
                              "); this says you received it, nothing "
                              "more")}}};
}

GuiReply GuiApi::Cancel(const GuiRequest& request) {
  if (auto refused =
          RequireRole(MemberRole::kCoordinator, "cancel a notification")) {
    return *refused;
  }
  const std::string id = request.Get("id");
  const std::string reason = request.Get("reason");
  if (id.empty()) return Missing("id", "the notification id");
  if (reason.empty()) {
    return Missing("reason", "why it is cancelled (encrypted to the audience)");
  }
  absl::MutexLock lock(&device_mu_);
  absl::StatusOr<uint64_t> index = device_.notifications().CancelNotification(id, reason);
  Note(index.status());
  if (!index.ok()) return GuiErrorFor(index.status());
  return GuiReply{200,
                  {{"id", id},
                   {"cancelled", true},
                   {"log_index", *index},
                   {"message", absl::StrCat("cancelled ", id, " (log index ",
                                            *index, ")")}}};
}

GuiReply GuiApi::PostStatus(const GuiRequest& request) {
  if (auto refused = RequireRole(MemberRole::kCoordinator, "post status")) {
    return *refused;
  }
  const std::string id = request.Get("id");
  const std::string status = request.Get("status");
  const std::string note = request.Get("note");
  if (id.empty()) return Missing("id", "the notification id");
  const bool outcome = IsMovementOutcome(status);
  if (!outcome && !IsMovementStatusUpdate(status)) {
    return GuiError(400, "invalid_argument",
                    absl::StrCat("status \"", status,
                                 "\": give one of ", MovementStatusChoices()));
  }
  absl::MutexLock lock(&device_mu_);
  absl::StatusOr<uint64_t> index =
      device_.notifications().PostNotificationStatus(id, status, note, outcome);
  Note(index.status());
  if (!index.ok()) return GuiErrorFor(index.status());
  return GuiReply{200,
                  {{"id", id},
                   {"status", status},
                   {"final", outcome},
                   {"log_index", *index},
                   {"message", absl::StrCat(outcome ? "outcome " : "status ",
                                            status, " posted for ", id,
                                            " (log index ", *index, ")")}}};
}

std::optional<GuiReply> GuiApi::RequireRole(MemberRole role,
                                            const char* what) {
  std::string name, mine;
  {
    absl::MutexLock lock(&contact_mu_);
    name = me_.value("name", "");
    mine = me_.value("role", "");
  }
  if (mine == RoleName(role)) return std::nullopt;
  return GuiError(403, "wrong_role",
                  absl::StrCat("only a ", std::string(RoleName(role)), " can ", what,
                               "; this device is ", name, ", a ", mine));
}

GuiReply GuiApi::Notify(const GuiRequest& request) {
  if (auto refused =
          RequireRole(MemberRole::kCoordinator, "notify parties")) {
    return *refused;
  }
  absl::StatusOr<NotifyForm> form = ReadNotifyForm(request.body, std::nullopt);
  if (!form.ok()) return FormError(form.status());
  absl::MutexLock lock(&device_mu_);
  const ProfileIdentity& me = device_.identity();
  std::vector<FormProblem> problems;
  absl::StatusOr<NotificationContent> content = NewContentFromForm(
      *form, me.organisation.empty() ? me.name : me.organisation, absl::Now(),
      SystemRandom(), &problems);
  if (!content.ok()) return FormError(content.status(), problems);
  return SubmitNotification(*content);
}

GuiReply GuiApi::Amend(const GuiRequest& request) {
  if (auto refused =
          RequireRole(MemberRole::kCoordinator, "amend a notification")) {
    return *refused;
  }
  const std::string id = request.Get("id");
  if (id.empty()) return Missing("id", "the notification to amend");
  absl::MutexLock lock(&device_mu_);
  absl::StatusOr<NotificationView> view =
      device_.notifications().ShowNotification(id);
  Note(view.status());
  if (!view.ok()) return GuiErrorFor(view.status());
  if (view->versions.empty() || !view->versions.back().content.has_value()) {
    return GuiErrorFor(absl::DataLossError(
        absl::StrCat("cannot open the current version of ", id)));
  }
  const NotificationContent& current = *view->versions.back().content;
  absl::StatusOr<NotifyForm> form = ReadNotifyForm(
      request.body, std::holds_alternative<MovementContent>(current));
  if (!form.ok()) return FormError(form.status());
  std::vector<FormProblem> problems;
  absl::StatusOr<NotificationContent> content = AmendedContentFromForm(
      *form, current, view->state.version(), absl::Now(), &problems);
  if (!content.ok()) return FormError(content.status(), problems);
  return SubmitNotification(*content);
}

GuiReply GuiApi::SubmitNotification(const NotificationContent& content) {
  const std::string& id = ContentId(content);
  const std::vector<std::string> parties =
      ComputeVisibleMetadata(content).parties;
  // A typo in a party's name is named before anything is sealed; when the
  // server cannot be reached the notification may still be queued.
  absl::StatusOr<std::vector<DirectoryEntry>> listed = device_.ListDirectory();
  Note(listed.status());
  if (!listed.ok() && !IsUnreachable(listed.status())) {
    return GuiErrorFor(listed.status());
  }
  if (absl::Status s = CheckPartiesInDirectory("to", parties, listed);
      !s.ok()) {
    GuiReply reply = FormError(s);
    reply.status = 400;
    return reply;
  }
  absl::StatusOr<NotifyResult> r = device_.notifications().Notify(content);
  Note(r.ok() && r->queued ? absl::UnavailableError(r->queued_reason)
                           : r.status());
  if (!r.ok()) {
    return absl::IsInvalidArgument(r.status()) ? FormError(r.status())
                                               : GuiErrorFor(r.status());
  }
  const bool movement = std::holds_alternative<MovementContent>(content);
  nlohmann::json reply = {{"id", id},
                          {"kind", movement ? "movement" : "site"},
                          {"version", r->version},
                          {"parties", parties},
                          {"queued", r->queued}};
  if (r->queued) {
    reply["outbox_id"] = r->outbox_id;
    reply["reason"] = r->queued_reason;
    reply["message"] = absl::StrCat(
        "queued, not yet sent: ", id, " version ", r->version,
        " is sealed, signed and waits in the outbox (", r->queued_reason,
        "); it is sent when the server answers");
    return GuiReply{202, reply};
  }
  nlohmann::json changes = nlohmann::json::array();
  for (const FieldChange& c : r->changes) {
    changes.push_back(
        {{"path", c.path}, {"before", c.before}, {"after", c.after}});
  }
  reply["log_index"] = r->log_index;
  reply["duplicate"] = r->duplicate;
  reply["late"] = r->late;
  reply["lead_time_seconds"] = r->lead_time_seconds;
  reply["required_lead_time_seconds"] = r->required_lead_time_seconds;
  reply["changes"] = changes;
  std::string message = absl::StrCat(
      "notified ", id, " version ", r->version, " to ",
      absl::StrJoin(parties, ", "), " (log index ", r->log_index, ")",
      r->duplicate ? " [already logged]" : "");
  if (r->version > 1) {
    absl::StrAppend(&message, "; ", changes.size(),
                    " field(s) changed; acknowledgements of receipt start "
                    "again");
  }
  if (r->late) {
    reply["warning"] = absl::StrCat(
        "LATE: lead time ", Hours(r->lead_time_seconds),
        " is below the required ", Hours(r->required_lead_time_seconds),
        " — logged and flagged");
    absl::StrAppend(&message, ". ", reply["warning"].get<std::string>());
  }
  reply["message"] = message;
  return GuiReply{200, reply};
}

GuiReply GuiApi::Parties(const GuiRequest&) {
  absl::MutexLock lock(&device_mu_);
  absl::StatusOr<std::vector<DirectoryEntry>> listed = device_.ListDirectory();
  Note(listed.status());
  if (!listed.ok()) return GuiErrorFor(listed.status());
  nlohmann::json out = nlohmann::json::array();
  for (const DirectoryEntry& e : *listed) {
    if (e.member.role() != v1::ROLE_PARTY || e.member.revoked()) continue;
    out.push_back({{"name", e.member.name()},
                   {"organisation", e.member.organisation()}});
  }
  return GuiReply{200, {{"parties", out}}};
}

GuiReply GuiApi::Outbox(const GuiRequest&) {
  absl::MutexLock lock(&device_mu_);
  nlohmann::json items = nlohmann::json::array();
  for (const OutboxRow& row : DescribeOutbox(device_.state().outbox())) {
    nlohmann::json j = OutboxRowJson(row);
    if (row.item.kind == "send" && row.item.content_type == kTextContentType) {
      j["preview"] = row.item.payload.substr(0, kPreviewChars);
    }
    items.push_back(j);
  }
  return GuiReply{200, {{"outbox", items}}};
}

GuiReply GuiApi::OutboxResend(const GuiRequest& request) {
  const std::string id = request.Get("id");
  if (id.empty()) return Missing("id", "the outbox item to send again");
  absl::MutexLock lock(&device_mu_);
  const OutboxItem* item = device_.state().FindOutboxItem(id);
  if (item == nullptr) {
    return GuiError(404, "not_found",
                    absl::StrCat("nothing queued with id ", id,
                                 ": it was sent or dropped already"));
  }
  if (!item->held.empty()) {
    // Refused by the server: sealed again for the channel's members now.
    absl::StatusOr<std::vector<SendResult>> sent = device_.ResendHeld(id);
    Note(sent.status());
    if (!sent.ok()) return GuiErrorFor(sent.status());
    nlohmann::json out = nlohmann::json::array();
    size_t queued = 0;
    for (const SendResult& r : *sent) {
      queued += r.queued ? 1 : 0;
      out.push_back({{"id", r.id},
                     {"channel", r.channel},
                     {"queued", r.queued},
                     {"log_index", r.log_index},
                     {"duplicate", r.duplicate}});
    }
    return GuiReply{
        queued > 0 ? 202 : 200,
        {{"resent", out},
         {"message",
          absl::StrCat("sealed again for the channel's current members: ",
                       sent->size() - queued, " sent",
                       queued > 0 ? absl::StrCat(", ", queued,
                                                 " queued, not yet sent")
                                  : std::string())}}};
  }
  // Waiting: send the outbox now, in order (this item cannot jump the
  // queue).
  absl::Status flushed = device_.FlushOutboxWithRetries(
      options_.sync_attempts, options_.sync_budget);
  std::optional<FlushedItem> mine;
  size_t others = 0;
  for (FlushedItem& f : device_.TakeFlushed()) {
    if (f.item.id == id) {
      mine = std::move(f);
    } else {
      ++others;
    }
  }
  Note(flushed);
  if (mine.has_value()) {
    return GuiReply{
        200,
        {{"id", id},
         {"sent", true},
         {"log_index", mine->answer.log_index},
         {"duplicate", mine->answer.duplicate},
         {"others_sent", others},
         {"message", absl::StrCat("sent ", id, ": logged at index ",
                                  mine->answer.log_index,
                                  mine->answer.duplicate
                                      ? " (already logged)"
                                      : "")}}};
  }
  const OutboxItem* still = device_.state().FindOutboxItem(id);
  if (still == nullptr) {
    return GuiReply{200,
                    {{"id", id},
                     {"sent", true},
                     {"message", absl::StrCat(id, " is no longer queued")}}};
  }
  std::string status = kOutboxWaiting;
  for (const OutboxRow& row : DescribeOutbox(device_.state().outbox())) {
    if (row.item.id == id) status = row.status;
  }
  GuiReply reply;
  if (status == kOutboxHeld) {
    reply = GuiError(409, "held",
                     absl::StrCat(id, ": not sent, the server refused it (",
                                  still->held, ")"));
  } else if (status == kOutboxWaitingBehindHeld) {
    reply = GuiError(
        409, "behind_held",
        absl::StrCat(id, ": still queued, not yet sent: it waits behind a "
                         "held item of the same channel or notification; "
                         "send that one again or drop it first"));
  } else {
    reply = GuiError(
        503, "still_queued",
        absl::StrCat(id, ": still queued, not yet sent (",
                     !flushed.ok() ? std::string(flushed.message())
                                   : still->last_error,
                     ")"));
  }
  reply.body["sent"] = false;
  return reply;
}

GuiReply GuiApi::OutboxDrop(const GuiRequest& request) {
  const std::string id = request.Get("id");
  if (id.empty()) return Missing("id", "the outbox item to drop");
  bool force = false;
  if (auto f = request.body.find("force"); f != request.body.end()) {
    if (!f->is_boolean()) {
      return GuiError(400, "invalid_argument", "force: must be true or false");
    }
    force = f->get<bool>();
  }
  absl::MutexLock lock(&device_mu_);
  const OutboxItem* item = device_.state().FindOutboxItem(id);
  if (item == nullptr) {
    return GuiError(404, "not_found",
                    absl::StrCat("nothing queued with id ", id,
                                 ": it was sent or dropped already"));
  }
  if (item->held.empty() && !force) {
    return GuiError(409, "still_waiting",
                    absl::StrCat(id, " is still waiting to be sent and may "
                                     "already have reached the server; drop "
                                     "it only if you are sure (force)"));
  }
  const std::string kind = item->kind;
  absl::Status dropped = device_.DropQueued(id, force);
  CountOutbox();
  if (!dropped.ok()) return GuiErrorFor(dropped);
  return GuiReply{200,
                  {{"dropped", id},
                   {"kind", kind},
                   {"message", absl::StrCat("dropped ", id, " (", kind,
                                            "): it will not be sent")}}};
}

GuiReply GuiApi::SyncNow(const GuiRequest&) {
  absl::MutexLock lock(&device_mu_);
  absl::Status flushed = device_.FlushOutboxWithRetries(
      options_.sync_attempts, options_.sync_budget);
  nlohmann::json sent = nlohmann::json::array();
  for (const FlushedItem& f : device_.TakeFlushed()) {
    sent.push_back({{"id", f.item.id},
                    {"kind", f.item.kind},
                    {"channel", f.item.channel},
                    {"log_index", f.answer.log_index},
                    {"duplicate", f.answer.duplicate}});
  }
  Note(flushed);
  auto counts = [this] {
    absl::MutexLock lock(&contact_mu_);
    return std::make_pair(contact_.waiting, contact_.held);
  };
  if (!flushed.ok()) {
    GuiReply reply = GuiErrorFor(flushed);
    reply.body["error"] = absl::StrCat(flushed.message(), "; ",
                                       counts().first,
                                       " item(s) queued, not yet sent");
    reply.body["sent"] = sent;
    return reply;
  }
  if (absl::StatusOr<size_t> cached = device_.RefreshOfflineCache();
      !cached.ok()) {
    Note(cached.status());
    return GuiErrorFor(cached.status());
  }
  size_t messages = 0;
  absl::Status s = device_.Sync(CaughtUp(), [&](const SyncEvent& e) {
    if (e.kind == SyncEvent::Kind::kMessage) ++messages;
  });
  Note(s);
  if (s.ok()) {
    absl::MutexLock lock(&contact_mu_);
    contact_.synced_at_ms = NowMillis();
  }
  if (!s.ok()) return GuiErrorFor(s);
  const auto [waiting, held] = counts();
  return GuiReply{200,
                  {{"sent", sent},
                   {"new_messages", messages},
                   {"waiting", waiting},
                   {"held", held},
                   {"message",
                    absl::StrCat("caught up: ", sent.size(), " sent, ",
                                 messages, " new message(s)",
                                 held > 0 ? absl::StrCat(", ", held, " held")
                                          : std::string())}}};
}

}  // namespace parley
