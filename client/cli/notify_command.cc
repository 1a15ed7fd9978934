// parley notify movement|site|--from-file, parley notification amend.

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <variant>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/cli/cli.h"
#include "client/cli/progress_bar.h"
#include "client/views/notify_flags.h"
#include "crypto/encoding.h"
#include "crypto/random.h"
#include "parley/v1/notifications.pb.h"

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
  return absl::StrCat(prefix, HexEncode(SystemRandom().Bytes(8)));
}

struct NotifyArgs {
  std::string to, route, polygon, id, from_file;
  MovementFlags movement;
  SiteFlags site;
  std::string type;  // movement or site type
  std::string contact;
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
  c->add_option_function<int>(
      "--personnel", [a](int v) { a->movement.personnel = v; },
      "Personnel count");
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
  if (amend) {
    c->add_flag_callback(
        "--deactivate", [a] { a->site.deactivated = true; },
        "Sites: mark the site deactivated (no longer in use)");
    c->add_flag_callback(
        "--reactivate", [a] { a->site.deactivated = false; },
        "Sites: the site is in use again");
  }
}

// Options that apply to one kind only, for refusing them on the other
// (`notification amend` accepts both sets).
constexpr const char* kMovementOnly[] = {
    "--route",    "--depart",    "--arrive",    "--return-depart",
    "--return-arrive", "--vehicles", "--personnel", "--cargo",
    "--emergency", "--ack-by"};
constexpr const char* kSiteOnly[] = {"--name",     "--point",
                                     "--polygon",  "--review-by",
                                     "--function", "--deactivate",
                                     "--reactivate"};

absl::Status CheckKindOptions(const CLI::App& c, bool movement,
                              const std::string& id) {
  const std::vector<const char*> other_kind =
      movement ? std::vector<const char*>(std::begin(kSiteOnly),
                                          std::end(kSiteOnly))
               : std::vector<const char*>(std::begin(kMovementOnly),
                                          std::end(kMovementOnly));
  for (const char* name : other_kind) {
    if (c.count(name) > 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          name, ": applies to ", movement ? "sites" : "movements", "; ", id,
          " is a ", movement ? "movement" : "site"));
    }
  }
  if (c.count("--deactivate") > 0 && c.count("--reactivate") > 0) {
    return absl::InvalidArgumentError(
        "--deactivate: give --deactivate or --reactivate, not both");
  }
  return absl::OkStatus();
}

// The directory, listed once per command for checking recipients.
struct PartyDirectory {
  std::optional<absl::StatusOr<std::vector<DirectoryEntry>>> listed;
};

// Checks --to (or a file's "to") against the directory before anything is
// sealed (CheckPartiesInDirectory), naming the flag.
absl::Status CheckPartiesOnline(Device& device, std::string_view field,
                                const std::vector<std::string>& parties,
                                PartyDirectory* directory) {
  if (parties.empty()) return absl::OkStatus();
  if (!directory->listed.has_value()) directory->listed = device.ListDirectory();
  return CheckPartiesInDirectory(field, parties, *directory->listed);
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

std::string LateText(const NotifyResult& r) {
  if (r.required_lead_time_seconds == 0) {
    // Logged by an earlier run: the server's state says late, not by how
    // much.
    return "LATE: below the required lead time — logged and flagged";
  }
  return absl::StrCat("LATE: lead time ", Hours(r.lead_time_seconds),
                      " is below the required ",
                      Hours(r.required_lead_time_seconds),
                      " — logged and flagged");
}

nlohmann::json ResultJson(const std::string& id,
                          const NotificationContent& content,
                          const NotifyResult& r) {
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
  if (r.queued) {
    j["queued"] = true;
    j["outbox_id"] = r.outbox_id;
  }
  return j;
}

void PrintResult(const GlobalOptions& options, const std::string& id,
                 const NotificationContent& content,
                 const NotifyResult& r) {
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

int PrintQueued(const GlobalOptions& options, const std::string& id,
                const NotifyResult& r) {
  if (options.json) {
    PrintJson({{"id", id}, {"version", r.version},
               {"queued", true}, {"outbox_id", r.outbox_id},
               {"reason", r.queued_reason}});
  } else {
    std::cout << Coloured(STDOUT_FILENO, "33", "queued, not yet sent")
              << ": " << id << " is sealed, signed and "
              << "waits in the outbox as " << r.outbox_id
              << "; `parley sync` sends it when the server is back ("
              << r.queued_reason << ")\n";
  }
  return kExitQueued;
}

int NotifyOne(const GlobalOptions& options, NotifyArgs* a, bool movement) {
  if (absl::Status s = Finish(a, movement); !s.ok()) {
    return ReportError(options, s);
  }
  if (absl::Status s = movement ? CheckNewMovementFlags(a->movement)
                                : CheckNewSiteFlags(a->site);
      !s.ok()) {
    return ReportError(options, s);
  }
  const absl::Time now = absl::Now();
  // Flag values are checked before the passphrase is asked for.
  NotificationContent content;
  if (movement) {
    MovementContent m;
    m.id = a->id.empty() ? NewId("mv-") : a->id;
    if (absl::Status s = ApplyMovementFlags(a->movement, now, &m); !s.ok()) {
      return ReportError(options, s);
    }
    content = std::move(m);
  } else {
    SiteContent s;
    s.id = a->id.empty() ? NewId("site-") : a->id;
    s.submitted_at = absl::FromUnixSeconds(absl::ToUnixSeconds(now));
    if (absl::Status st = ApplySiteFlags(a->site, now, &s); !st.ok()) {
      return ReportError(options, st);
    }
    content = std::move(s);
  }
  absl::StatusOr<std::unique_ptr<Device>> device = OpenDevice(options);
  if (!device.ok()) return ReportError(options, device.status());
  const ProfileIdentity& me = (*device)->identity();
  std::visit(
      [&](auto& c) {
        c.organisation = me.organisation.empty() ? me.name : me.organisation;
      },
      content);
  PartyDirectory directory;
  if (absl::Status s = CheckPartiesOnline(
          **device, "--to", ComputeVisibleMetadata(content).parties,
          &directory);
      !s.ok()) {
    return ReportError(options, s);
  }
  absl::StatusOr<NotifyResult> r = (*device)->notifications().Notify(content);
  PrintWarnings(options, **device);
  if (!r.ok()) return ReportError(options, r.status());
  if (r->queued) return PrintQueued(options, ContentId(content), *r);
  PrintResult(options, ContentId(content), content, *r);
  return kExitOk;
}

int Amend(const GlobalOptions& options, NotifyArgs* a, const std::string& id,
          const CLI::App& command) {
  absl::StatusOr<std::unique_ptr<Device>> device = OpenDevice(options);
  if (!device.ok()) return ReportError(options, device.status());
  absl::StatusOr<NotificationView> view =
      (*device)->notifications().ShowNotification(id);
  if (!view.ok()) return ReportError(options, view.status());
  if (view->versions.empty() || !view->versions.back().content.has_value()) {
    return ReportError(options, absl::DataLossError(absl::StrCat(
                                    "cannot open the current version of ", id)));
  }
  const NotificationContent before = *view->versions.back().content;
  NotificationContent content = before;
  const bool movement = std::holds_alternative<MovementContent>(content);
  if (absl::Status s = CheckKindOptions(command, movement, id); !s.ok()) {
    return ReportError(options, s);
  }
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
  if (DiffContent(before, content).empty()) {
    return ReportError(
        options, absl::InvalidArgumentError(absl::StrCat(
                     "nothing to amend: the flags given leave ", id,
                     " version ", view->state.version(),
                     " as it is (see parley notification amend --help)")));
  }
  PartyDirectory directory;
  if (absl::Status s = CheckPartiesOnline(
          **device, "--to", ComputeVisibleMetadata(content).parties,
          &directory);
      !s.ok()) {
    return ReportError(options, s);
  }
  absl::StatusOr<NotifyResult> r = (*device)->notifications().Notify(content);
  PrintWarnings(options, **device);
  if (!r.ok()) return ReportError(options, r.status());
  if (r->queued) return PrintQueued(options, id, *r);
  PrintResult(options, id, content, *r);
  return kExitOk;
}

// One line of a --from-file: refused with this status, or accepted.
struct LineOutcome {
  size_t line = 0;
  std::string id;
  absl::Status problem;
};

// Parses line `text` into content: JSON object with "to" allowed for
// "recipients"; missing version/supersedes/organisation/submitted_at
// filled in. A missing id is derived from the line's text and `occurrence`
// (how many identical lines came before it in the file), so running the
// same file again names the same notifications (*derived_id set).
// InvalidArgument naming the field otherwise.
absl::StatusOr<NotificationContent> ContentOfLine(const std::string& text,
                                                  size_t occurrence,
                                                  const Device& device,
                                                  std::string* id,
                                                  bool* derived_id) {
  const ProfileIdentity& me = device.identity();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    std::string what = e.what();
    if (const size_t end = what.find("] "); what.rfind("[json.", 0) == 0 &&
                                            end != std::string::npos) {
      what = what.substr(end + 2);
    }
    return absl::InvalidArgumentError(absl::StrCat("malformed JSON: ", what));
  }
  if (!j.is_object()) {
    return absl::InvalidArgumentError(
        "malformed line: expected one JSON object (a notification's content)");
  }
  if (j.contains("to")) {
    if (j.contains("recipients")) {
      return absl::InvalidArgumentError(
          "to: give \"to\" or \"recipients\", not both");
    }
    if (j["to"].is_string()) {
      j["recipients"] = SplitList(j["to"].get<std::string>());
    } else if (j["to"].is_array()) {
      j["recipients"] = j["to"];
    } else {
      return absl::InvalidArgumentError(
          "to: a list of party names, e.g. \"partya,partyb\" or "
          "[\"partya\",\"partyb\"]");
    }
    j.erase("to");
  }
  if (!j.contains("schema")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "schema: required, \"", std::string(kMovementSchema), "\" or \"",
        std::string(kSiteSchema), "\""));
  }
  const bool movement = j["schema"].is_string() &&
                        j["schema"].get<std::string>() == kMovementSchema;
  if (!j.contains("id")) {
    j["id"] = device.notifications().DeriveNotificationId(
        movement ? "mv-" : "site-", absl::StrCat(occurrence, "\n", text));
    *derived_id = true;
  }
  if (!j.contains("version")) j["version"] = 1;
  if (!j.contains("supersedes")) j["supersedes"] = 0;
  if (!j.contains("organisation")) {
    j["organisation"] = me.organisation.empty() ? me.name : me.organisation;
  }
  if (!movement && !j.contains("submitted_at")) {
    j["submitted_at"] = FormatRfc3339Utc(
        absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now())));
  }
  *id = j["id"].is_string() ? j["id"].get<std::string>() : "";
  absl::StatusOr<NotificationContent> content = ContentFromJson(j);
  if (!content.ok()) return content.status();
  if (std::vector<std::string> problems = ValidateContent(*content);
      !problems.empty()) {
    return absl::InvalidArgumentError(absl::StrJoin(problems, "; "));
  }
  return content;
}

// JSON lines, one notification content each; every line is tried, bad
// lines do not stop good ones. Exit 0 if every line was accepted, 1 if any
// was refused (the summary says which and why), 10 if none was refused but
// some were queued; 2 if the file cannot be read. Lines are checked first,
// then the good ones are notified together (Device::NotifyBatch).
int FromFile(const GlobalOptions& options, const std::string& path) {
  absl::StatusOr<std::string> text = ReadText("from-file", path);
  if (!text.ok()) return ReportError(options, text.status());
  // (file line number, text) of every non-blank line.
  std::vector<std::pair<size_t, std::string>> lines;
  {
    std::istringstream in(*text);
    size_t number = 0;
    for (std::string line; std::getline(in, line);) {
      ++number;
      if (line.find_first_not_of(" \t\r") != std::string::npos) {
        lines.emplace_back(number, std::move(line));
      }
    }
  }
  if (lines.empty()) {
    return ReportError(options, absl::InvalidArgumentError(absl::StrCat(
                                    "--from-file: ", path,
                                    " has no notification lines")));
  }
  absl::StatusOr<std::unique_ptr<Device>> device = OpenDevice(options);
  if (!device.ok()) return ReportError(options, device.status());
  ProgressBar bar("lines");
  nlohmann::json accepted = nlohmann::json::array();
  nlohmann::json queued = nlohmann::json::array();
  std::vector<LineOutcome> refused;
  std::map<std::string, NotificationContent> queued_content;  // by outbox id
  size_t late = 0;
  size_t done = 0;
  auto draw = [&] {
    bar.Update(done, lines.size(),
               absl::StrCat(accepted.size(), " accepted, ", refused.size(),
                            " refused"));
  };

  // Every line parsed and its parties checked (the directory listed once)
  // before anything is sealed.
  std::vector<LineOutcome> outcomes;  // of the lines in `batch`, in order
  std::vector<BatchNotification> batch;
  std::map<std::string, size_t> seen;  // line text: how often so far
  PartyDirectory directory;
  for (const auto& [number, line] : lines) {
    LineOutcome outcome;
    outcome.line = number;
    BatchNotification item;
    const std::string trimmed(absl::StripAsciiWhitespace(line));
    absl::StatusOr<NotificationContent> content = ContentOfLine(
        trimmed, seen[trimmed]++, **device, &outcome.id, &item.derived_id);
    if (!content.ok()) {
      outcome.problem = content.status();
    } else if (absl::Status s = CheckPartiesOnline(
                   **device, "to", ComputeVisibleMetadata(*content).parties,
                   &directory);
               !s.ok()) {
      outcome.problem = s;
    }
    if (!outcome.problem.ok()) {
      refused.push_back(std::move(outcome));
      ++done;
      draw();
      continue;
    }
    item.content = *std::move(content);
    batch.push_back(std::move(item));
    outcomes.push_back(std::move(outcome));
  }

  NotifyBatchOptions batch_options;
  batch_options.on_result =
      [&](size_t i, const absl::StatusOr<NotifyResult>& r) {
        LineOutcome& outcome = outcomes[i];
        const NotificationContent& content = batch[i].content;
        if (!r.ok()) {
          outcome.problem = r.status();
          refused.push_back(outcome);
        } else if (r->queued) {
          queued.push_back({{"line", outcome.line},
                            {"id", outcome.id},
                            {"outbox_id", r->outbox_id},
                            {"reason", r->queued_reason}});
          queued_content.emplace(r->outbox_id, content);
        } else {
          if (r->late) ++late;
          nlohmann::json j = ResultJson(outcome.id, content, *r);
          j["line"] = outcome.line;
          accepted.push_back(std::move(j));
        }
        ++done;
        draw();
      };
  (*device)->notifications().NotifyBatch(batch, batch_options);
  bar.Finish();
  std::sort(refused.begin(), refused.end(),
            [](const LineOutcome& a, const LineOutcome& b) {
              return a.line < b.line;
            });
  // Work queued on a transient refusal (a dropped connection) is sent now
  // if the server is back; what the server accepted counts as accepted.
  // The rest stays in the outbox.
  if (!queued.empty()) {
    if (absl::Status f = (*device)->FlushOutboxWithRetries(6, absl::Seconds(30));
        !f.ok()) {
      std::cerr << "parley: " << f.message() << std::endl;
    }
    std::map<std::string, OutboxAnswer> answers;
    for (const FlushedItem& f : (*device)->TakeFlushed()) {
      answers[f.item.id] = f.answer;
    }
    nlohmann::json still = nlohmann::json::array();
    for (nlohmann::json& q : queued) {
      const std::string outbox_id = q["outbox_id"].get<std::string>();
      auto answer = answers.find(outbox_id);
      if (answer == answers.end()) {
        still.push_back(std::move(q));
        continue;
      }
      const NotifyResult r =
          NotificationClient::NotifyAnswered(answer->second, NotifyResult());
      if (r.late) ++late;
      nlohmann::json j = ResultJson(q["id"].get<std::string>(),
                                    queued_content.at(outbox_id), r);
      j["line"] = q["line"];
      accepted.push_back(std::move(j));
    }
    queued = std::move(still);
  }
  std::sort(accepted.begin(), accepted.end(),
            [](const nlohmann::json& a, const nlohmann::json& b) {
              return a["line"].get<size_t>() < b["line"].get<size_t>();
            });
  PrintWarnings(options, **device);
  const int code = !refused.empty() ? kExitError
                   : !queued.empty() ? kExitQueued
                                     : kExitOk;
  size_t already = 0;
  for (const nlohmann::json& a : accepted) {
    if (a["duplicate"].get<bool>()) ++already;
  }
  if (options.json) {
    nlohmann::json refusals = nlohmann::json::array();
    for (const LineOutcome& r : refused) {
      refusals.push_back(
          {{"line", r.line},
           {"id", r.id},
           {"code", absl::StatusCodeToString(r.problem.code())},
           {"reason", std::string(r.problem.message())}});
    }
    PrintJson({{"file", path},
               {"lines", lines.size()},
               {"accepted", accepted.size()},
               {"already_logged", already},
               {"refused", refused.size()},
               {"queued", queued.size()},
               {"late", late},
               {"notifications", accepted},
               {"queued_notifications", queued},
               {"refusals", refusals}});
    return code;
  }
  std::cout << lines.size() << " lines: " << accepted.size() << " accepted";
  if (already > 0) {
    std::cout << " (" << already
              << " already logged by an earlier run, not notified again)";
  }
  if (late > 0) {
    std::cout << " (" << late
              << " LATE: below the required lead time, logged and flagged)";
  }
  if (!queued.empty()) {
    std::cout << ", " << queued.size()
              << " queued, not yet sent (`parley outbox`)";
  }
  std::cout << ", " << refused.size() << " refused\n";
  for (const LineOutcome& r : refused) {
    std::cout << "  " << path << ":" << r.line
              << (r.id.empty() ? "" : absl::StrCat(" ", r.id))
              << ": refused: " << r.problem.message() << "\n";
  }
  return code;
}

}  // namespace

void AddNotifyCommand(CLI::App& app, GlobalOptions& options, Handler* run) {
  CLI::App* notify = app.add_subcommand(
      "notify", "Notify parties of a movement or a static site");
  auto from_file = std::make_shared<std::string>();
  notify->add_option("--from-file", *from_file,
                     "JSON lines, one notification content each; prints a "
                     "summary of what was accepted and refused. Lines "
                     "without an id are not notified twice when the file "
                     "is run again");
  notify->callback([&options, run, from_file, notify] {
    if (from_file->empty()) {
      if (notify->get_subcommands().empty()) {
        throw CLI::CallForHelp();
      }
      return;
    }
    if (!notify->get_subcommands().empty()) {
      throw CLI::ValidationError(
          "--from-file", "give a file or a subcommand (movement, site), "
                         "not both");
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
      "amend",
      "New version superseding the current one; acknowledgements of receipt "
      "start again; shows what changed");
  am->add_option("ID", *amend_id, "Notification id")->required();
  AddCommonOptions(am, amend.get());
  AddMovementOptions(am, amend.get());
  AddSiteOptions(am, amend.get(), true);
  am->callback([&options, run, amend, amend_id, am] {
    *run = [&options, amend, amend_id, am] {
      return Amend(options, amend.get(), *amend_id, *am);
    };
  });
}

}  // namespace parley::cli
