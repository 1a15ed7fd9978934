// parley outbox [drop ID | resend ID], parley sync.

#include <unistd.h>

#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "client/cli/cli.h"
#include "client/views/outbox_view.h"

namespace parley::cli {
namespace {

// How long `parley sync` keeps retrying an unreachable server.
constexpr int kSyncFlushAttempts = 6;
constexpr absl::Duration kSyncFlushBudget = absl::Seconds(30);

std::string FormatMillis(int64_t ms) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%SZ", absl::FromUnixMillis(ms),
                          absl::UTCTimeZone());
}

int ListOutbox(const GlobalOptions& options, Device& device) {
  nlohmann::json items = nlohmann::json::array();
  const absl::Time now = absl::Now();
  for (const OutboxRow& row : DescribeOutbox(device.state().outbox())) {
    const OutboxItem& item = row.item;
    const std::string& status = row.status;
    const bool behind = status == kOutboxWaitingBehindHeld;
    items.push_back(OutboxRowJson(row));
    if (options.json) continue;
    std::cout << item.id << "  " << item.kind << "  " << item.channel << "  "
              << (item.held.empty()
                      ? Coloured(STDOUT_FILENO, "33", status)
                      : Coloured(STDOUT_FILENO, "31", status))
              << (item.description.empty() ? "" : "\n    ") << item.description
              << "\n    queued " << FormatMillis(item.queued_at_ms)
              << ", signed " << absl::FormatDuration(absl::Trunc(
                                    now - absl::FromUnixSeconds(item.created_at),
                                    absl::Minutes(1)))
              << " ago, " << item.attempts << " attempt(s)\n";
    if (!item.held.empty()) {
      std::cout << "    refused: " << item.held << "\n"
                << "    `parley outbox resend " << item.id
                << "` seals it again for the channel's current members; "
                   "`parley outbox drop "
                << item.id << "` gives it up\n";
    } else if (behind) {
      std::cout << "    waits until the held item before it is resent or "
                   "dropped\n";
    } else if (!item.last_error.empty()) {
      std::cout << "    last error: " << item.last_error << "\n";
    }
  }
  if (options.json) {
    PrintJson({{"outbox", items}});
  } else if (items.empty()) {
    std::cout << "the outbox is empty: everything was sent\n";
  }
  return kExitOk;
}

}  // namespace

void AddOutboxCommand(CLI::App& app, GlobalOptions& options, Handler* run) {
  CLI::App* outbox = app.add_subcommand(
      "outbox", "What is signed but not yet sent, and why");
  outbox->callback([&options, run, outbox] {
    if (!outbox->get_subcommands().empty()) return;
    *run = [&options]() -> int {
      absl::StatusOr<std::unique_ptr<Device>> device = OpenDevice(options);
      if (!device.ok()) return ReportError(options, device.status());
      PrintWarnings(options, **device);
      return ListOutbox(options, **device);
    };
  });

  CLI::App* drop = outbox->add_subcommand(
      "drop", "Give up queued work (a held item, or any with --force)");
  auto drop_id = std::make_shared<std::string>();
  auto force = std::make_shared<bool>(false);
  drop->add_option("ID", *drop_id, "Outbox id")->required();
  drop->add_flag("--force", *force,
                 "Also drop work that is still waiting (it may have reached "
                 "the server already)");
  drop->callback([&options, run, drop_id, force] {
    *run = [&options, drop_id, force]() -> int {
      absl::StatusOr<std::unique_ptr<Device>> device = OpenDevice(options);
      if (!device.ok()) return ReportError(options, device.status());
      absl::Status s = (*device)->DropQueued(*drop_id, *force);
      if (!s.ok()) return ReportError(options, s);
      if (options.json) {
        PrintJson({{"dropped", *drop_id}});
      } else {
        std::cout << "dropped " << *drop_id << "\n";
      }
      return kExitOk;
    };
  });

  CLI::App* resend = outbox->add_subcommand(
      "resend", "Seal a held send again for the channel's current members "
                "(and what waits behind it), then send");
  auto resend_id = std::make_shared<std::string>();
  resend->add_option("ID", *resend_id, "Outbox id")->required();
  resend->callback([&options, run, resend_id] {
    *run = [&options, resend_id]() -> int {
      absl::StatusOr<std::unique_ptr<Device>> device = OpenDevice(options);
      if (!device.ok()) return ReportError(options, device.status());
      absl::StatusOr<std::vector<SendResult>> sent =
          (*device)->ResendHeld(*resend_id);
      PrintWarnings(options, **device);
      if (!sent.ok()) return ReportError(options, sent.status());
      nlohmann::json out = nlohmann::json::array();
      bool queued = false;
      for (const SendResult& r : *sent) {
        queued |= r.queued;
        out.push_back({{"id", r.id},
                       {"channel", r.channel},
                       {"queued", r.queued},
                       {"log_index", r.log_index},
                       {"duplicate", r.duplicate}});
        if (!options.json) {
          if (r.queued) {
            std::cout << r.id << ": queued, not yet sent (" << r.queued_reason
                      << ")\n";
          } else {
            std::cout << r.id << ": sent to " << r.channel
                      << ", logged at index " << r.log_index << "\n";
          }
        }
      }
      if (options.json) PrintJson({{"resent", out}});
      return queued ? kExitQueued : kExitOk;
    };
  });

  CLI::App* sync = app.add_subcommand(
      "sync", "Send the outbox in order (retrying with backoff), then fetch "
              "until caught up");
  sync->callback([&options, run] {
    *run = [&options]() -> int {
      absl::StatusOr<std::unique_ptr<Device>> device = OpenDevice(options);
      if (!device.ok()) return ReportError(options, device.status());
      Device& d = **device;
      absl::Status flushed =
          d.FlushOutboxWithRetries(kSyncFlushAttempts, kSyncFlushBudget);
      nlohmann::json sent = nlohmann::json::array();
      for (const FlushedItem& f : d.TakeFlushed()) {
        sent.push_back({{"id", f.item.id},
                        {"kind", f.item.kind},
                        {"channel", f.item.channel},
                        {"log_index", f.answer.log_index},
                        {"duplicate", f.answer.duplicate}});
        if (!options.json) {
          std::cout << "sent " << f.item.kind << " " << f.item.id << " to "
                    << f.item.channel << ": logged at index "
                    << f.answer.log_index
                    << (f.answer.duplicate ? " (already logged)" : "") << "\n";
        }
      }
      size_t waiting = 0, held = 0;
      for (const OutboxItem& item : d.state().outbox()) {
        ++(item.held.empty() ? waiting : held);
      }
      if (!flushed.ok()) {
        PrintWarnings(options, d);
        return ReportError(
            options, absl::Status(flushed.code(),
                                  absl::StrCat(flushed.message(), "; ",
                                               waiting,
                                               " item(s) queued, not yet "
                                               "sent")));
      }
      if (absl::StatusOr<size_t> cached = d.RefreshOfflineCache();
          !cached.ok()) {
        return ReportError(options, cached.status());
      }
      nlohmann::json messages = nlohmann::json::array();
      SyncOptions until_caught_up;
      absl::Status s = d.Sync(until_caught_up, [&](const SyncEvent& e) {
        if (e.kind != SyncEvent::Kind::kMessage) return;
        messages.push_back(MessageJson(e.message));
        if (!options.json) PrintMessage(e.message);
      });
      PrintWarnings(options, d);
      // As inbox: what came before an entry that failed verification is
      // shown, then the failure (exit 5).
      if (!s.ok() && !absl::IsDataLoss(s)) return ReportError(options, s);
      if (options.json) {
        PrintJson({{"sent", sent},
                   {"queued", waiting},
                   {"held", held},
                   {"messages", messages},
                   {"cursor", d.state().cursor().has_value()
                                  ? nlohmann::json(*d.state().cursor())
                                  : nlohmann::json(nullptr)}});
      } else if (s.ok()) {
        std::cout << "caught up: " << sent.size() << " sent, "
                  << messages.size() << " new message(s)";
        if (held > 0) {
          std::cout << ", "
                    << Coloured(STDOUT_FILENO, "31",
                                absl::StrCat(held, " held (see `parley "
                                                   "outbox`)"));
        }
        std::cout << "\n";
      }
      if (!s.ok()) return ReportError(options, s);
      return kExitOk;
    };
  });
}

}  // namespace parley::cli
