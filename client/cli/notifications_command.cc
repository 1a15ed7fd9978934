// parley notifications [export], parley notification show|cancel|status.

#include <fstream>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/cli/cli.h"
#include "client/cli/progress_bar.h"
#include "client/deconfliction/notification_export.h"
#include "client/deconfliction/vocabulary.h"
#include "client/views/notification_json.h"
#include "crypto/encoding.h"

namespace parley::cli {
namespace {

std::string OverallText(const v1::NotificationState& n) {
  if (SiteReviewDue(n)) return "review due (review-by date passed)";
  return OverallStateWords(n.overall());
}

std::string Time(int64_t t) {
  return t == 0 ? "" : FormatRfc3339Utc(absl::FromUnixSeconds(t));
}

std::string PartiesSummary(const v1::NotificationState& n) {
  std::vector<std::string> out;
  for (const v1::PartyState& p : n.parties()) {
    std::string s = absl::StrCat(p.party(), ": ", PartyStateWords(p.state()));
    if (p.escalation() > 0) {
      absl::StrAppend(&s, " (", EscalationName(p.escalation()), ")");
    }
    out.push_back(s);
  }
  return absl::StrJoin(out, "; ");
}

int List(const GlobalOptions& options) {
  absl::StatusOr<std::unique_ptr<Device>> device = OpenDevice(options);
  if (!device.ok()) return ReportError(options, device.status());
  absl::StatusOr<std::vector<v1::NotificationState>> list =
      (*device)->notifications().ListNotifications();
  PrintWarnings(options, **device);
  if (!list.ok()) return ReportError(options, list.status());
  if (options.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& n : *list) out.push_back(NotificationStateJson(n));
    PrintJson({{"notifications", out}});
    return kExitOk;
  }
  if (list->empty()) {
    std::cout << "no notifications\n";
    return kExitOk;
  }
  std::cout << "ID                   KIND      VER  OVERALL                          PARTIES\n";
  for (const auto& n : *list) {
    std::string id = n.metadata().id();
    std::string overall = OverallText(n);
    if (n.late()) overall += " LATE";
    id.resize(std::max<size_t>(id.size(), 20), ' ');
    overall.resize(std::max<size_t>(overall.size(), 32), ' ');
    std::string kind = n.metadata().kind() == v1::MOVEMENT ? "movement" : "site";
    kind.resize(9, ' ');
    std::string ver = std::to_string(n.version());
    ver.resize(4, ' ');
    std::cout << id << " " << kind << " " << ver << " " << overall << " "
              << PartiesSummary(n) << "\n";
  }
  return kExitOk;
}

// What the current version changed against the one it superseded, when
// this member can open both (the audience of both versions).
struct VersionChanges {
  uint32_t from = 0;  // 0: no earlier version to compare with
  std::vector<FieldChange> changes;
};

VersionChanges ChangesOfCurrent(const NotificationView& view) {
  VersionChanges out;
  const auto& versions = view.versions;
  if (versions.size() < 2) return out;
  const auto& current = versions.back();
  const auto& previous = versions[versions.size() - 2];
  if (!current.content.has_value() || !previous.content.has_value() ||
      previous.version + 1 != current.version) {
    return out;
  }
  out.from = previous.version;
  out.changes = DiffContent(*previous.content, *current.content);
  return out;
}

nlohmann::json ChangesJson(const std::vector<FieldChange>& changes) {
  nlohmann::json out = nlohmann::json::array();
  for (const FieldChange& c : changes) {
    out.push_back({{"path", c.path}, {"before", c.before}, {"after", c.after}});
  }
  return out;
}

// The review-due reminder the server logged for the current version of a
// site (PROTOCOL.md 15.3), if this member's view holds it.
const NotificationEvent* ReviewReminder(
    const NotificationView& view) {
  for (const auto& e : view.events) {
    if (e.step == "review-due" && e.version == view.state.version()) return &e;
  }
  return nullptr;
}

int Show(const GlobalOptions& options, const std::string& id) {
  absl::StatusOr<std::unique_ptr<Device>> device = OpenDevice(options);
  if (!device.ok()) return ReportError(options, device.status());
  absl::StatusOr<NotificationView> view =
      (*device)->notifications().ShowNotification(id);
  PrintWarnings(options, **device);
  if (!view.ok()) return ReportError(options, view.status());
  const VersionChanges changed = ChangesOfCurrent(*view);
  const NotificationEvent* reminder = ReviewReminder(*view);
  if (options.json) {
    nlohmann::json j = NotificationViewJson(*view);
    j["review_reminder"] =
        reminder == nullptr
            ? nlohmann::json(nullptr)
            : nlohmann::json({{"index", reminder->index},
                              {"logged_at_ms", reminder->logged_at_ms}});
    j["changed_from_version"] =
        changed.from == 0 ? nlohmann::json(nullptr) : nlohmann::json(changed.from);
    j["changes"] = ChangesJson(changed.changes);
    PrintJson(j);
    return kExitOk;
  }
  const v1::NotificationState& n = view->state;
  std::cout << n.metadata().id() << " version " << n.version() << " ("
            << (n.metadata().kind() == v1::MOVEMENT ? "movement" : "site")
            << ") by " << n.issuer() << ", " << n.organisation() << "\n"
            << "overall: " << OverallText(n) << "\n";
  if (reminder != nullptr) {
    std::cout << "review reminder logged "
              << FormatRfc3339Utc(absl::FromUnixMillis(reminder->logged_at_ms))
              << " (entry #" << reminder->index << ")\n";
  }
  if (n.late()) {
    std::cout << "LATE: notified below the required lead time — logged and "
                 "flagged\n";
  }
  if (n.metadata().depart_at()) std::cout << "departure: " << Time(n.metadata().depart_at()) << "\n";
  if (n.metadata().ack_by()) std::cout << "acknowledge receipt by: " << Time(n.metadata().ack_by()) << "\n";
  std::cout << "parties:\n";
  for (const v1::PartyState& p : n.parties()) {
    std::cout << "  " << p.party() << ": " << PartyStateWords(p.state())
              << "\n    logged " << Time(p.logged_at()) << "\n    delivered "
              << (p.delivered_at() ? Time(p.delivered_at()) : "-")
              << "\n    acknowledged receipt "
              << (p.acknowledged_at() ? Time(p.acknowledged_at()) : "-")
              << "\n    objected "
              << (p.objected_at() ? Time(p.objected_at()) : "-") << "\n";
    if (p.escalation() > 0) {
      std::cout << "    " << EscalationName(p.escalation())
                << " logged\n";
    }
  }
  if (changed.from != 0) {
    std::cout << "changed since version " << changed.from << ":\n";
    for (const FieldChange& c : changed.changes) {
      std::cout << "  " << c.path << ": "
                << (c.before.empty() ? "(none)" : c.before) << " -> "
                << (c.after.empty() ? "(none)" : c.after) << "\n";
    }
  }
  if (!view->versions.empty()) {
    const auto& v = view->versions.back();
    if (v.content.has_value()) {
      std::cout << "content (version " << v.version << "):\n"
                << ContentToJson(*v.content).dump(2) << "\n";
    } else {
      std::cout << "content: " << v.error << "\n";
    }
  }
  for (const auto& e : view->events) {
    std::cout << "#" << e.index << " " << e.text
              << (e.error.empty() ? "" : " [" + e.error + "]") << "\n";
  }
  return kExitOk;
}

int Export(const GlobalOptions& options, const std::string& format,
           const std::string& out) {
  if (format != "csv" && format != "geojson" && format != "cap") {
    return ReportError(options, absl::InvalidArgumentError(
                                    "--format: csv, geojson or cap"));
  }
  absl::StatusOr<std::unique_ptr<Device>> device = OpenDevice(options);
  if (!device.ok()) return ReportError(options, device.status());
  absl::StatusOr<std::vector<v1::NotificationState>> list =
      (*device)->notifications().ListNotifications();
  if (!list.ok()) return ReportError(options, list.status());
  // On a terminal: the log entries being proven (the first notification
  // fetches those of all), then the notifications opened.
  ProgressBar bar("notifications");
  size_t opened = 0;
  (*device)->set_entry_progress([&](uint64_t done, uint64_t total) {
    bar.Update(opened, list->size(),
               absl::StrCat("log entries proven: ", done, "/", total));
  });
  std::vector<ExportNotification> reg;
  for (const v1::NotificationState& n : *list) {
    absl::StatusOr<NotificationView> view =
        (*device)->notifications().ShowNotification(n.metadata().id());
    bar.Update(++opened, list->size());
    if (!view.ok()) {
      bar.Finish();
      return ReportError(options, view.status());
    }
    ExportNotification e;
    e.issuer = n.issuer();
    e.organisation = n.organisation();
    e.overall = OverallStateName(n.overall());
    for (const auto& v : view->versions) {
      if (!v.content.has_value()) continue;
      ExportVersion ev;
      ev.content = *v.content;
      ev.logged_at = v.logged_at_ms / 1000;
      ev.late = v.late;
      for (const v1::PartyState& p : n.parties()) {
        ExportPartyState ps;
        ps.party = p.party();
        ps.logged_at = ev.logged_at;
        if (v.version == n.version()) {
          ps.logged_at = p.logged_at();
          ps.delivered_at = p.delivered_at();
          ps.acknowledged_at = p.acknowledged_at();
          ps.objected_at = p.objected_at();
          ps.escalation = static_cast<int>(p.escalation());
        }
        ev.parties.push_back(ps);
      }
      e.versions.push_back(std::move(ev));
    }
    for (const auto& ev : view->events) {
      if (ev.kind == "notification-cancelled") e.cancelled_at = ev.logged_at_ms / 1000;
    }
    if (!e.versions.empty()) reg.push_back(std::move(e));
  }
  bar.Finish();
  (*device)->set_entry_progress(nullptr);
  PrintWarnings(options, **device);
  std::string text;
  if (format == "csv") {
    text = ExportCsv(reg);
  } else if (format == "geojson") {
    text = ExportGeoJson(reg).dump(2) + "\n";
  } else {
    absl::StatusOr<std::vector<CapAlert>> alerts = ExportCap(
        reg, absl::StrCat((*device)->identity().name, "@",
                          (*device)->identity().origin));
    if (!alerts.ok()) return ReportError(options, alerts.status());
    if (options.json) {
      nlohmann::json a = nlohmann::json::array();
      for (const CapAlert& c : *alerts) {
        a.push_back({{"identifier", c.identifier}, {"xml", c.xml}});
      }
      text = a.dump(2) + "\n";
    } else {
      for (const CapAlert& c : *alerts) text += c.xml + "\n";
    }
  }
  if (out.empty()) {
    std::cout << text;
    return kExitOk;
  }
  std::ofstream f(out, std::ios::binary | std::ios::trunc);
  f << text;
  if (!f.flush()) {
    return ReportError(options, absl::InternalError(absl::StrCat("cannot write ", out)));
  }
  if (options.json) {
    PrintJson({{"format", format}, {"out", out}, {"notifications", reg.size()}});
  } else {
    std::cout << "wrote " << reg.size() << " notifications to " << out << "\n";
  }
  return kExitOk;
}

}  // namespace

void AddNotificationsCommand(CLI::App& app, GlobalOptions& options,
                             Handler* run) {
  CLI::App* list = app.add_subcommand(
      "notifications", "The notification register with per-party states");
  list->callback([&options, run, list] {
    if (!list->get_subcommands().empty()) return;
    *run = [&options] { return List(options); };
  });
  auto format = std::make_shared<std::string>("csv");
  auto out = std::make_shared<std::string>();
  CLI::App* exp = list->add_subcommand("export", "Export the register");
  exp->add_option("--format", *format, "csv, geojson or cap")->capture_default_str();
  exp->add_option("--out", *out, "Write here instead of stdout");
  exp->callback([&options, run, format, out] {
    *run = [&options, format, out] { return Export(options, *format, *out); };
  });

  CLI::App* notification = nullptr;
  try {
    notification = app.get_subcommand("notification");
  } catch (const CLI::OptionNotFound&) {
    notification = app.add_subcommand(
        "notification", "Show, amend, cancel or post status of a notification");
  }
  notification->require_subcommand(1);
  auto id = std::make_shared<std::string>();
  CLI::App* show = notification->add_subcommand(
      "show", "Decrypt the notification; per-party timestamps and escalations");
  show->add_option("ID", *id, "Notification id")->required();
  show->callback([&options, run, id] {
    *run = [&options, id] { return Show(options, *id); };
  });

  auto reason = std::make_shared<std::string>();
  CLI::App* cancel = notification->add_subcommand("cancel", "Cancel (issuer)");
  cancel->add_option("ID", *id, "Notification id")->required();
  cancel->add_option("--reason", *reason, "Why (encrypted to the audience)")
      ->required();
  cancel->callback([&options, run, id, reason] {
    *run = [&options, id, reason]() -> int {
      if (reason->find_first_not_of(" \t") == std::string::npos) {
        return ReportError(options,
                           absl::InvalidArgumentError(
                               "--reason: say why it is cancelled (encrypted "
                               "to the notification's audience)"));
      }
      absl::StatusOr<std::unique_ptr<Device>> device = OpenDevice(options);
      if (!device.ok()) return ReportError(options, device.status());
      absl::StatusOr<uint64_t> index =
          (*device)->notifications().CancelNotification(*id, *reason);
      PrintWarnings(options, **device);
      if (!index.ok()) return ReportError(options, index.status());
      if (options.json) {
        PrintJson({{"id", *id}, {"cancelled", true}, {"log_index", *index}});
      } else {
        std::cout << "cancelled " << *id << " (log index " << *index << ")\n";
      }
      return kExitOk;
    };
  });

  auto status = std::make_shared<std::string>();
  auto note = std::make_shared<std::string>();
  CLI::App* st = notification->add_subcommand(
      "status", "Post a movement's status or outcome (issuer)");
  st->add_option("ID", *id, "Notification id")->required();
  st->add_option("STATUS", *status, MovementStatusChoices())
      ->required();
  st->add_option("--note", *note, "Free text (encrypted to the audience)");
  st->callback([&options, run, id, status, note] {
    *run = [&options, id, status, note]() -> int {
      const bool outcome = IsMovementOutcome(*status);
      if (!outcome && !IsMovementStatusUpdate(*status)) {
        return ReportError(options, absl::InvalidArgumentError(absl::StrCat(
            "STATUS \"", *status, "\": ", MovementStatusChoices())));
      }
      absl::StatusOr<std::unique_ptr<Device>> device = OpenDevice(options);
      if (!device.ok()) return ReportError(options, device.status());
      absl::StatusOr<uint64_t> index =
          (*device)->notifications().PostNotificationStatus(*id, *status, *note, outcome);
      PrintWarnings(options, **device);
      if (!index.ok()) return ReportError(options, index.status());
      if (options.json) {
        PrintJson({{"id", *id}, {"status", *status}, {"final", outcome},
                   {"log_index", *index}});
      } else {
        std::cout << (outcome ? "outcome " : "status ") << *status
                  << " posted for " << *id << " (log index " << *index
                  << ")\n";
      }
      return kExitOk;
    };
  });
}

}  // namespace parley::cli
