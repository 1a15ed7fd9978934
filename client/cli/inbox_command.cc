#include <signal.h>

#include <atomic>
#include <iostream>
#include <thread>

#include "absl/strings/str_join.h"
#include "client/cli/cli.h"

namespace parley::cli {
namespace {

// One event as JSON (messages: MessageJson). Empty when `channel_filter`
// excludes it.
nlohmann::json EventJson(const SyncEvent& e,
                         const std::string& channel_filter) {
  if (e.kind == SyncEvent::Kind::kMessage) {
    if (!channel_filter.empty() && e.message.channel != channel_filter) {
      return nullptr;
    }
    return MessageJson(e.message);
  }
  if (!channel_filter.empty() && e.channel != channel_filter) return nullptr;
  nlohmann::json j = {{"index", e.index}};
  switch (e.kind) {
    case SyncEvent::Kind::kReceipt:
      j["type"] = "receipt";
      j["envelope_index"] = e.envelope_index;
      j["recipient"] = e.receipt.recipient;
      j["level"] = e.receipt.level;
      j["verified"] = e.receipt.verified;
      if (!e.receipt.verified) j["problem"] = e.receipt.problem;
      if (!e.notification_id.empty()) {
        j["notification_id"] = e.notification_id;
      }
      break;
    case SyncEvent::Kind::kChannel:
      j["type"] = "channel";
      j["channel"] = e.channel;
      j["members"] = e.members;
      j["text"] = e.text;
      break;
    case SyncEvent::Kind::kNotification:
      j["type"] = "notification";
      j["entry_type"] = e.entry_type;
      j["notification_id"] = e.notification_id;
      j["version"] = e.version;
      j["member"] = e.member;
      j["text"] = e.text;
      if (!e.members.empty()) j["parties"] = e.members;
      if (!e.step.empty()) j["step"] = e.step;
      if (!e.error.empty()) j["error"] = e.error;
      break;
    default:
      j["type"] = "notice";
      j["text"] = e.text;
  }
  return j;
}

void PrintEvent(const GlobalOptions& options, const SyncEvent& e,
                const std::string& channel_filter, bool lines) {
  if (options.json) {
    // JSON lines for watch; inbox prints one document at the end.
    if (!lines) return;
    nlohmann::json j = EventJson(e, channel_filter);
    if (!j.is_null()) PrintJson(j);
    return;
  }
  if (e.kind == SyncEvent::Kind::kMessage) {
    if (!channel_filter.empty() && e.message.channel != channel_filter) return;
    PrintMessage(e.message);
    return;
  }
  switch (e.kind) {
    case SyncEvent::Kind::kReceipt:
      if (!channel_filter.empty() && e.channel != channel_filter) return;
      std::cout << "#" << e.envelope_index
                << (e.notification_id.empty()
                        ? std::string()
                        : " (notification " + e.notification_id + ")")
                << " " << e.receipt.level << " to " << e.receipt.recipient
                << (e.receipt.verified ? " (signature verified)"
                                       : " (NOT VERIFIED: " +
                                             e.receipt.problem + ")")
                << "\n";
      break;
    case SyncEvent::Kind::kChannel:
      if (!channel_filter.empty() && e.channel != channel_filter) return;
      std::cout << "[" << e.channel << "] " << e.text << ": "
                << absl::StrJoin(e.members, ", ") << "\n";
      break;
    case SyncEvent::Kind::kNotification:
      if (!channel_filter.empty() && e.channel != channel_filter) return;
      std::cout << "[" << e.channel << "] " << e.text << "\n";
      break;
    default:
      std::cout << "(" << e.text << ")\n";
  }
}

std::atomic<Device*> g_watched{nullptr};

// Stops a running watch: SIGINT and SIGTERM are blocked in every thread
// and taken here with sigwait, so no work happens in a signal handler.
void WaitForStopSignal(sigset_t set) {
  int sig = 0;
  sigwait(&set, &sig);
  if (Device* d = g_watched.load(); d != nullptr) {
    d->RequestStop();
  } else {
    std::_Exit(130);  // interrupted before the stream started
  }
}

}  // namespace

void AddInboxCommand(CLI::App& app, GlobalOptions& options, Handler* run) {
  CLI::App* inbox = app.add_subcommand(
      "inbox", "Fetch, decrypt and acknowledge delivery of new messages");
  auto channel = std::make_shared<std::string>();
  auto wait = std::make_shared<double>(0);
  inbox->add_option("CHANNEL", *channel, "Show only this channel");
  inbox->add_option("--wait", *wait,
                    "Keep listening this many seconds (0: until caught up)");
  inbox->callback([&options, run, channel, wait] {
    *run = [&options, channel, wait]() -> int {
      absl::StatusOr<std::unique_ptr<Device>> device = OpenDevice(options);
      if (!device.ok()) return ReportError(options, device.status());
      SyncOptions sync;
      sync.wait = absl::Seconds(*wait);
      sync.until_caught_up = *wait <= 0;
      nlohmann::json messages = nlohmann::json::array();
      nlohmann::json events = nlohmann::json::array();
      size_t shown = 0;
      absl::Status s = (*device)->Sync(sync, [&](const SyncEvent& e) {
        if (e.kind == SyncEvent::Kind::kMessage &&
            (channel->empty() || e.message.channel == *channel)) {
          messages.push_back(MessageJson(e.message));
          ++shown;
        } else if (e.kind != SyncEvent::Kind::kMessage) {
          // Everything else (notifications, escalations, receipts,
          // membership, notices), in log order.
          if (nlohmann::json j = EventJson(e, *channel); !j.is_null()) {
            events.push_back(std::move(j));
            if (e.kind == SyncEvent::Kind::kNotification) ++shown;
          }
        }
        PrintEvent(options, e, *channel, /*lines=*/false);
      });
      PrintWarnings(options, **device);
      // An entry that failed verification stops the sync after what came
      // before it was stored: show that too, then the failure (exit 5).
      if (!s.ok() && !absl::IsDataLoss(s)) return ReportError(options, s);
      if (options.json) {
        PrintJson({{"messages", messages},
                   {"events", events},
                   {"cursor", (*device)->state().cursor().has_value()
                                  ? nlohmann::json(
                                        *(*device)->state().cursor())
                                  : nlohmann::json(nullptr)}});
      } else if (shown == 0 && s.ok()) {
        std::cout << "no new messages\n";
      }
      if (!s.ok()) return ReportError(options, s);
      return kExitOk;
    };
  });

  CLI::App* watch = app.add_subcommand(
      "watch", "Follow new messages until interrupted (JSON lines with "
               "--json); reconnects after network failures");
  watch->callback([&options, run] {
    *run = [&options]() -> int {
      sigset_t set;
      sigemptyset(&set);
      sigaddset(&set, SIGINT);
      sigaddset(&set, SIGTERM);
      pthread_sigmask(SIG_BLOCK, &set, nullptr);
      std::thread stopper(WaitForStopSignal, set);
      stopper.detach();
      absl::StatusOr<std::unique_ptr<Device>> device = OpenDevice(options);
      if (!device.ok()) return ReportError(options, device.status());
      g_watched.store(device->get());
      SyncOptions sync;
      sync.follow = true;
      sync.until_caught_up = false;
      absl::Status s = (*device)->Sync(sync, [&](const SyncEvent& e) {
        PrintEvent(options, e, "", /*lines=*/true);
        std::cout.flush();
      });
      g_watched.store(nullptr);
      PrintWarnings(options, **device);
      if (!s.ok()) return ReportError(options, s);
      return kExitOk;
    };
  });
}

}  // namespace parley::cli
