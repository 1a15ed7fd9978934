// parley deconflict check [--zones FILE] [--distance 1km]

#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "client/cli/cli.h"
#include "client/deconfliction/deconflict.h"

namespace parley::cli {

void AddDeconflictCommand(CLI::App& app, GlobalOptions& options,
                          Handler* run) {
  CLI::App* deconflict = app.add_subcommand(
      "deconflict", "Conflict checks over the notifications you can read");
  deconflict->require_subcommand(1);
  auto zones_file = std::make_shared<std::string>();
  auto distance = std::make_shared<std::string>("1km");
  CLI::App* check = deconflict->add_subcommand(
      "check", "Movements near zones or each other; sites in zones");
  check->add_option("--zones", *zones_file, "GeoJSON restricted zones");
  check->add_option("--distance", *distance, "e.g. 1km, 800m")
      ->capture_default_str();
  check->callback([&options, run, zones_file, distance] {
    *run = [&options, zones_file, distance]() -> int {
      absl::StatusOr<double> metres = ParseDistance(*distance);
      if (!metres.ok()) {
        return ReportError(options, absl::InvalidArgumentError(absl::StrCat(
                                        "--distance: ", metres.status().message())));
      }
      std::vector<Zone> zones;
      if (!zones_file->empty()) {
        std::ifstream in(*zones_file);
        if (!in) {
          return ReportError(options, absl::InvalidArgumentError(absl::StrCat(
                                          "--zones: cannot read ", *zones_file)));
        }
        std::ostringstream text;
        text << in.rdbuf();
        absl::StatusOr<std::vector<Zone>> z = ReadZonesGeoJson(text.str());
        if (!z.ok()) {
          return ReportError(
              options, absl::Status(z.status().code(),
                                    absl::StrCat("--zones: ", *zones_file, ": ",
                                                 z.status().message())));
        }
        zones = *std::move(z);
      }
      absl::StatusOr<std::unique_ptr<Device>> device = OpenDevice(options);
      if (!device.ok()) return ReportError(options, device.status());
      absl::StatusOr<std::vector<v1::NotificationState>> list =
          (*device)->notifications().ListNotifications();
      if (!list.ok()) return ReportError(options, list.status());
      std::vector<MovementLeg> legs;
      std::vector<SiteLocation> sites;
      size_t unreadable = 0, skipped = 0;
      for (const v1::NotificationState& n : *list) {
        if (n.overall() == v1::NotificationState::CANCELLED ||
            n.overall() == v1::NotificationState::COMPLETED) {
          ++skipped;
          continue;
        }
        absl::StatusOr<NotificationView> view =
            (*device)->notifications().ShowNotification(n.metadata().id());
        if (!view.ok() || view->versions.empty() ||
            !view->versions.back().content.has_value()) {
          ++unreadable;
          continue;
        }
        const NotificationContent& c = *view->versions.back().content;
        if (const auto* m = std::get_if<MovementContent>(&c)) {
          for (MovementLeg& leg : LegsOf(*m)) legs.push_back(std::move(leg));
        } else {
          sites.push_back(LocationOf(std::get<SiteContent>(c)));
        }
      }
      PrintWarnings(options, **device);
      // The server lists only what this member is in the audience of: a
      // party checks the notifications addressed to it, nothing else.
      const bool party = (*device)->identity().role == MemberRole::kParty;
      const char* scope = party ? "addressed-to-you" : "audience";
      DeconflictOptions opts;
      opts.distance_metres = *metres;
      absl::StatusOr<std::vector<ConflictFinding>> findings =
          CheckConflicts(legs, sites, zones, opts);
      if (!findings.ok()) return ReportError(options, findings.status());
      if (options.json) {
        nlohmann::json f = nlohmann::json::array();
        for (const ConflictFinding& x : *findings) f.push_back(x.ToJson());
        PrintJson({{"scope", scope},
                   {"notifications", list->size()},
                   {"distance_metres", *metres},
                   {"movement_legs", legs.size()},
                   {"sites", sites.size()},
                   {"zones", zones.size()},
                   {"unreadable", unreadable},
                   {"skipped", skipped},
                   {"findings", f}});
        return kExitOk;
      }
      if (party) {
        std::cout << "as a party you see only the notifications addressed "
                     "to you; this check covers those alone\n";
      }
      std::cout << "checked " << legs.size() << " movement legs, "
                << sites.size() << " sites, " << zones.size()
                << " zones within " << *distance << "\n";
      if (unreadable > 0) {
        std::cout << unreadable << " notifications could not be opened\n";
      }
      if (findings->empty()) std::cout << "no findings\n";
      for (const ConflictFinding& x : *findings) {
        std::cout << "- " << x.Describe() << "\n";
      }
      return kExitOk;
    };
  });
}

}  // namespace parley::cli
