// GuiApi: the JSON API of `parley gui` over one Device. It only calls the
// Device and shapes JSON; the work is the Device's, as for the CLI.

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/cli.h"
#include "client/gui.h"
#include "client/notification_json.h"
#include "client/outbox_view.h"
#include "client/payloads.h"
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
  server.HandleGet("/api/outbox", bind(&GuiApi::Outbox));
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

void GuiApi::Note(const absl::Status& call) {
  AddNotices(device_.TakeWarnings());
  size_t waiting = 0, held = 0;
  for (const OutboxItem& item : device_.state().outbox()) {
    ++(item.held.empty() ? waiting : held);
  }
  absl::MutexLock lock(&contact_mu_);
  contact_.waiting = waiting;
  contact_.held = held;
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
    out.push_back(cli::MessageJson(*mine[i]));
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
      device_.ListNotifications();
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
  absl::StatusOr<Device::NotificationView> view =
      device_.ShowNotification(id);
  Note(view.status());
  if (!view.ok()) return GuiErrorFor(view.status());
  return GuiReply{200, WithWords(NotificationViewJson(*view), view->state)};
}

GuiReply GuiApi::Acknowledge(const GuiRequest& request, bool object) {
  const std::string id = request.Get("id");
  const std::string reason = request.Get("reason");
  if (id.empty()) return Missing("id", "the notification id");
  if (object && reason.empty()) {
    return Missing("reason",
                   "why you object; it is encrypted to the coordinator and "
                   "mediators only");
  }
  absl::MutexLock lock(&device_mu_);
  absl::StatusOr<Device::AckResult> answer =
      device_.AcknowledgeNotification(id, object ? reason : "");
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
  const std::string id = request.Get("id");
  const std::string reason = request.Get("reason");
  if (id.empty()) return Missing("id", "the notification id");
  if (reason.empty()) {
    return Missing("reason", "why it is cancelled (encrypted to the audience)");
  }
  absl::MutexLock lock(&device_mu_);
  absl::StatusOr<uint64_t> index = device_.CancelNotification(id, reason);
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
      device_.PostNotificationStatus(id, status, note, outcome);
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
