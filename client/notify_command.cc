// parley notify movement|site|--from-file, parley notification amend.

#include <unistd.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/cli.h"
#include "client/notify_flags.h"
#include "crypto/encoding.h"
#include "crypto/random.h"

namespace parley::cli {
namespace {

absl::StatusOr<std::string> ReadText(const std::string& flag,
                                     const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, ": cannot read ", path));
  }
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string NewId(const char* prefix) {
  return absl::StrCat(prefix, HexEncode(SystemRandom().Bytes(4)));
}

struct NotifyArgs {
  std::string to, route, polygon, id, from_file;
  MovementFlags movement;
  SiteFlags site;
  std::string type;  // movement or site type
  std::string contact;
  int personnel = -1;
};

// CLI11 options bound to `a`; optional strings are filled in Finish().
void AddCommonOptions(CLI::App* c, NotifyArgs* a) {
  c->add_option("--to", a->to, "Parties, comma separated");
  c->add_option("--contact", a->contact,
                "24/7 contact: \"NAME,+PHONE|EMAIL|radio:CHANNEL\"");
  c->add_option("--type", a->type, "Movement or site type");
}

void AddMovementOptions(CLI::App* c, NotifyArgs* a) {
  MovementFlags& m = a->movement;
  c->add_option("--route", a->route, "Route file: GeoJSON LineString or GPX");
  c->add_option("--depart", m.depart,
                "Departure: RFC 3339 UTC, EARLIEST/LATEST, or +DURATION");
  c->add_option("--arrive", m.arrive, "Arrival (as --depart)");
  c->add_option("--return-depart", m.return_depart, "Return leg departure");
  c->add_option("--return-arrive", m.return_arrive, "Return leg arrival");
  c->add_option("--vehicles", m.vehicles,
                "COUNTxTYPE[:armoured|soft-skin],... e.g. 2xtruck:soft-skin");
  c->add_option("--personnel", a->personnel, "Personnel count");
  c->add_option_function<std::string>(
      "--cargo", [a](const std::string& v) { a->movement.cargo = v; },
      "Cargo summary");
  c->add_option_function<std::string>(
      "--emergency", [a](const std::string& v) { a->movement.emergency = v; },
      "Flag as emergency, with the justification");
  c->add_option_function<std::string>(
      "--ack-by", [a](const std::string& v) { a->movement.ack_by = v; },
      "Acknowledge-receipt deadline (RFC 3339 UTC or +DURATION)");
}

void AddSiteOptions(CLI::App* c, NotifyArgs* a, bool amend) {
  c->add_option_function<std::string>(
      "--name", [a](const std::string& v) { a->site.name = v; }, "Site name");
  c->add_option("--point", a->site.points, "LAT,LON (repeatable)");
  c->add_option("--polygon", a->polygon, "GeoJSON Polygon file");
  c->add_option_function<std::string>(
      "--review-by", [a](const std::string& v) { a->site.review_by = v; },
      "Review-by date (RFC 3339 UTC or +DURATION)");
  c->add_option_function<std::string>(
      "--function", [a](const std::string& v) { a->site.function = v; },
      "Humanitarian function as of today");
  (void)amend;
}

// Moves the plain options into the flag structs.
absl::Status Finish(NotifyArgs* a, bool movement) {
  std::vector<std::string> to = SplitList(a->to);
  a->movement.to = to;
  a->site.to = to;
  if (!a->contact.empty()) {
    a->movement.contact = a->contact;
    a->site.contact = a->contact;
  }
  if (!a->type.empty()) {
    a->movement.type = a->type;
    a->site.type = a->type;
  }
  if (a->personnel >= 0) a->movement.personnel = a->personnel;
  if (movement && !a->route.empty()) {
    absl::StatusOr<std::string> text = ReadText("route", a->route);
    if (!text.ok()) return text.status();
    a->movement.route_text = *text;
  }
  if (!movement && !a->polygon.empty()) {
    absl::StatusOr<std::string> text = ReadText("polygon", a->polygon);
    if (!text.ok()) return text.status();
    a->site.polygon_text = *text;
  }
  return absl::OkStatus();
}

std::string Hours(int64_t seconds) {
  if (seconds < 3600 && seconds > -3600) {
    return absl::StrCat((seconds + 30) / 60, " min");
  }
  return absl::StrCat((seconds + 1800) / 3600, " h");
}

std::string LateText(const Device::NotifyResult& r) {
  return absl::StrCat("LATE: lead time ", Hours(r.lead_time_seconds),
                      " is below the required ",
                      Hours(r.required_lead_time_seconds),
                      " — logged and flagged");
}

nlohmann::json ResultJson(const std::string& id,
                          const NotificationContent& content,
                          const Device::NotifyResult& r) {
  nlohmann::json changes = nlohmann::json::array();
  for (const FieldChange& c : r.changes) {
    changes.push_back(
        {{"path", c.path}, {"before", c.before}, {"after", c.after}});
  }
  nlohmann::json j = {
      {"id", id},
      {"kind", std::holds_alternative<MovementContent>(content) ? "movement"
                                                                 : "site"},
      {"version", r.version},
      {"log_index", r.log_index},
      {"duplicate", r.duplicate},
      {"parties", ComputeVisibleMetadata(content).parties},
      {"late", r.late},
      {"lead_time_seconds", r.lead_time_seconds},
      {"required_lead_time_seconds", r.required_lead_time_seconds},
      {"changes", changes}};
  if (r.late) j["warning"] = LateText(r);
  return j;
}

void PrintResult(const GlobalOptions& options, const std::string& id,
                 const NotificationContent& content,
                 const Device::NotifyResult& r) {
  if (r.late) std::cerr << "parley: " << LateText(r) << std::endl;
  if (options.json) {
    PrintJson(ResultJson(id, content, r));
    return;
  }
  std::cout << "notified " << id << " version " << r.version << " to "
            << absl::StrJoin(ComputeVisibleMetadata(content).parties, ", ")
            << " (log index " << r.log_index << ")"
            << (r.duplicate ? " [already logged]" : "") << "\n";
  if (r.late) std::cout << LateText(r) << "\n";
  if (!r.changes.empty()) {
    std::cout << "changed since version " << r.version - 1 << ":\n";
    for (const FieldChange& c : r.changes) {
      std::cout << "  " << c.path << ": "
                << (c.before.empty() ? "(none)" : c.before) << " -> "
                << (c.after.empty() ? "(none)" : c.after) << "\n";
    }
  }
}

int NotifyOne(const GlobalOptions& options, NotifyArgs* a, bool movement) {
  if (absl::Status s = Finish(a, movement); !s.ok()) {
    return ReportError(options, s);
  }
  absl::StatusOr<std::unique_ptr<Device>> device = OpenDevice(options);
  if (!device.ok()) return ReportError(options, device.status());
  const ProfileIdentity& me = (*device)->identity();
  const absl::Time now = absl::Now();
  NotificationContent content;
  if (movement) {
    MovementContent m;
    m.id = a->id.empty() ? NewId("mv-") : a->id;
    m.organisation = me.organisation.empty() ? me.name : me.organisation;
    if (absl::Status s = ApplyMovementFlags(a->movement, now, &m); !s.ok()) {
      return ReportError(options, s);
    }
    content = std::move(m);
  } else {
    SiteContent s;
    s.id = a->id.empty() ? NewId("site-") : a->id;
    s.organisation = me.organisation.empty() ? me.name : me.organisation;
    s.submitted_at = absl::FromUnixSeconds(absl::ToUnixSeconds(now));
    if (absl::Status st = ApplySiteFlags(a->site, now, &s); !st.ok()) {
      return ReportError(options, st);
    }
    content = std::move(s);
  }
  absl::StatusOr<Device::NotifyResult> r = (*device)->Notify(content);
  PrintWarnings(options, **device);
  if (!r.ok()) return ReportError(options, r.status());
  PrintResult(options, ContentId(content), content, *r);
  return kExitOk;
}

int Amend(const GlobalOptions& options, NotifyArgs* a, const std::string& id) {
  absl::StatusOr<std::unique_ptr<Device>> device = OpenDevice(options);
  if (!device.ok()) return ReportError(options, device.status());
  absl::StatusOr<Device::NotificationView> view =
      (*device)->ShowNotification(id);
  if (!view.ok()) return ReportError(options, view.status());
  if (view->versions.empty() || !view->versions.back().content.has_value()) {
    return ReportError(options, absl::DataLossError(absl::StrCat(
                                    "cannot open the current version of ", id)));
  }
  NotificationContent content = *view->versions.back().content;
  const bool movement = std::holds_alternative<MovementContent>(content);
  if (absl::Status s = Finish(a, movement); !s.ok()) {
    return ReportError(options, s);
  }
  const absl::Time now = absl::Now();
  absl::Status applied = std::visit(
      [&](auto& c) -> absl::Status {
        c.supersedes = view->state.version();
        c.version = view->state.version() + 1;
        if constexpr (std::is_same_v<std::decay_t<decltype(c)>,
                                     MovementContent>) {
          return ApplyMovementFlags(a->movement, now, &c);
        } else {
          return ApplySiteFlags(a->site, now, &c);
        }
      },
      content);
  if (!applied.ok()) return ReportError(options, applied);
  absl::StatusOr<Device::NotifyResult> r = (*device)->Notify(content);
  PrintWarnings(options, **device);
  if (!r.ok()) return ReportError(options, r.status());
  PrintResult(options, id, content, *r);
  return kExitOk;
}

// JSON lines: one content object each, "to" allowed for "recipients",
// missing id/version/organisation filled in.
int FromFile(const GlobalOptions& options, const std::string& path) {
  absl::StatusOr<std::string> text = ReadText("from-file", path);
  if (!text.ok()) return ReportError(options, text.status());
  std::vector<std::string> lines;
  std::istringstream in(*text);
  for (std::string line; std::getline(in, line);) {
    if (line.find_first_not_of(" \t\r") != std::string::npos) {
      lines.push_back(line);
    }
  }
  absl::StatusOr<std::unique_ptr<Device>> device = OpenDevice(options);
  if (!device.ok()) return ReportError(options, device.status());
  const ProfileIdentity& me = (*device)->identity();
  const bool bar = !options.json && isatty(STDERR_FILENO);
  nlohmann::json accepted = nlohmann::json::array();
  nlohmann::json refused = nlohmann::json::array();
  size_t late = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string where = absl::StrCat(path, ":", i + 1);
    nlohmann::json j = nlohmann::json::parse(lines[i], nullptr, false);
    absl::Status problem;
    std::string id;
    if (!j.is_object()) {
      problem = absl::InvalidArgumentError("not a JSON object");
    } else {
      if (j.contains("to")) {
        j["recipients"] = j["to"].is_string()
                              ? nlohmann::json(SplitList(j["to"].get<std::string>()))
                              : j["to"];
        j.erase("to");
      }
      const bool movement = j.value("schema", "") == kMovementSchema;
      if (!j.contains("id")) j["id"] = NewId(movement ? "mv-" : "site-");
      if (!j.contains("version")) j["version"] = 1;
      if (!j.contains("supersedes")) j["supersedes"] = 0;
      if (!j.contains("organisation")) {
        j["organisation"] = me.organisation.empty() ? me.name : me.organisation;
      }
      if (!movement && !j.contains("submitted_at")) {
        j["submitted_at"] = FormatRfc3339Utc(
            absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now())));
      }
      id = j["id"].is_string() ? j["id"].get<std::string>() : "";
      absl::StatusOr<NotificationContent> content = ContentFromJson(j);
      if (!content.ok()) {
        problem = content.status();
      } else {
        absl::StatusOr<Device::NotifyResult> r = (*device)->Notify(*content);
        if (!r.ok()) {
          problem = r.status();
        } else {
          if (r->late) ++late;
          accepted.push_back(ResultJson(id, *content, *r));
        }
      }
    }
    if (!problem.ok()) {
      refused.push_back({{"line", i + 1},
                         {"id", id},
                         {"reason", std::string(problem.message())}});
      if (!options.json && !bar) {
        std::cerr << "parley: " << where << ": refused: " << problem.message()
                  << std::endl;
      }
    }
    if (bar) {
      const size_t done = i + 1, width = 40;
      const size_t filled = width * done / lines.size();
      std::cerr << "\r[" << std::string(filled, '#')
                << std::string(width - filled, '.') << "] " << done << "/"
                << lines.size() << std::flush;
    }
  }
  if (bar) std::cerr << std::endl;
  PrintWarnings(options, **device);
  if (options.json) {
    PrintJson({{"accepted", accepted.size()},
               {"refused", refused.size()},
               {"late", late},
               {"notifications", accepted},
               {"refusals", refused}});
  } else {
    std::cout << accepted.size() << " accepted (" << late
              << " LATE: below the required lead time, logged and flagged), "
              << refused.size() << " refused\n";
    for (const nlohmann::json& r : refused) {
      std::cout << "  line " << r["line"].get<size_t>() << " "
                << r["id"].get<std::string>() << ": "
                << r["reason"].get<std::string>() << "\n";
    }
  }
  return refused.empty() ? kExitOk : kExitError;
}

}  // namespace

void AddNotifyCommand(CLI::App& app, GlobalOptions& options, Handler* run) {
  CLI::App* notify = app.add_subcommand(
      "notify", "Notify parties of a movement or a static site");
  auto from_file = std::make_shared<std::string>();
  notify->add_option("--from-file", *from_file,
                     "JSON lines, one notification content each");
  notify->callback([&options, run, from_file, notify] {
    if (from_file->empty()) {
      if (notify->get_subcommands().empty()) {
        throw CLI::CallForHelp();
      }
      return;
    }
    *run = [&options, from_file] { return FromFile(options, *from_file); };
  });

  auto movement = std::make_shared<NotifyArgs>();
  CLI::App* m = notify->add_subcommand("movement", "Notify a movement");
  AddCommonOptions(m, movement.get());
  AddMovementOptions(m, movement.get());
  m->add_option("--id", movement->id, "Notification id (default: generated)");
  m->callback([&options, run, movement] {
    *run = [&options, movement] {
      return NotifyOne(options, movement.get(), true);
    };
  });

  auto site = std::make_shared<NotifyArgs>();
  CLI::App* s = notify->add_subcommand("site", "Notify a static site");
  AddCommonOptions(s, site.get());
  AddSiteOptions(s, site.get(), false);
  s->add_option("--id", site->id, "Notification id (default: generated)");
  s->callback([&options, run, site] {
    *run = [&options, site] { return NotifyOne(options, site.get(), false); };
  });

  // `notification amend` lives here with the flags it shares.
  CLI::App* notification = nullptr;
  try {
    notification = app.get_subcommand("notification");
  } catch (const CLI::OptionNotFound&) {
    notification = app.add_subcommand(
        "notification", "Show, amend, cancel or post status of a notification");
  }
  auto amend = std::make_shared<NotifyArgs>();
  auto amend_id = std::make_shared<std::string>();
  CLI::App* am = notification->add_subcommand(
      "amend", "New version superseding the current one; shows what changed");
  am->add_option("ID", *amend_id, "Notification id")->required();
  AddCommonOptions(am, amend.get());
  AddMovementOptions(am, amend.get());
  AddSiteOptions(am, amend.get(), true);
  am->callback([&options, run, amend, amend_id] {
    *run = [&options, amend, amend_id] {
      return Amend(options, amend.get(), *amend_id);
    };
  });
}

}  // namespace parley::cli
