#include <iostream>

#include "client/cli/cli.h"
#include "crypto/encoding.h"

namespace parley::cli {

void AddDirectoryCommand(CLI::App& app, GlobalOptions& options, Handler* run) {
  CLI::App* cmd = app.add_subcommand(
      "directory", "List members with roles and identity fingerprints");
  cmd->callback([&options, run] {
    *run = [&options]() -> int {
      absl::StatusOr<std::unique_ptr<Device>> device = OpenDevice(options);
      if (!device.ok()) return ReportError(options, device.status());
      absl::StatusOr<std::vector<DirectoryEntry>> entries =
          (*device)->ListDirectory();
      if (!entries.ok()) return ReportError(options, entries.status());
      nlohmann::json members = nlohmann::json::array();
      for (const DirectoryEntry& e : *entries) {
        const v1::Member& m = e.member;
        const std::string role(
            RoleName(static_cast<MemberRole>(m.role())));
        if (options.json) {
          members.push_back({{"name", m.name()},
                             {"role", role},
                             {"organisation", m.organisation()},
                             {"identity_key", HexEncode(m.identity_key())},
                             {"fingerprint", e.fingerprint},
                             {"registration_index", m.registration_index()},
                             {"revoked", m.revoked()},
                             {"verified", e.verified},
                             {"key_changed", e.key_changed}});
        } else {
          std::cout << m.name() << "  " << role;
          if (!m.organisation().empty()) std::cout << "  " << m.organisation();
          if (m.revoked()) std::cout << "  REVOKED";
          if (e.key_changed) std::cout << "  KEY CHANGED SINCE VERIFIED";
          else if (e.verified) std::cout << "  verified";
          std::cout << "\n    " << e.fingerprint << "\n";
        }
      }
      if (options.json) PrintJson({{"members", members}});
      PrintWarnings(options, **device);
      return kExitOk;
    };
  });

  CLI::App* verify = app.add_subcommand(
      "verify",
      "Record that NAME's fingerprint was compared out of band and matches");
  auto name = std::make_shared<std::string>();
  auto fingerprint = std::make_shared<std::vector<std::string>>();
  verify->add_option("NAME", *name, "Member")->required();
  verify->add_option("FINGERPRINT", *fingerprint,
                     "60 digits as printed (quote it or pass the groups)")
      ->required();
  verify->callback([&options, run, name, fingerprint] {
    *run = [&options, name, fingerprint]() -> int {
      std::string typed;
      for (const std::string& part : *fingerprint) typed += part + " ";
      absl::StatusOr<std::unique_ptr<Device>> device = OpenDevice(options);
      if (!device.ok()) return ReportError(options, device.status());
      absl::StatusOr<VerifyResult> result =
          (*device)->VerifyMember(*name, typed);
      PrintWarnings(options, **device);
      if (!result.ok()) return ReportError(options, result.status());
      if (options.json) {
        PrintJson({{"name", result->name},
                   {"verified", true},
                   {"fingerprint", result->fingerprint},
                   {"pair_fingerprint", result->pair_fingerprint}});
      } else {
        std::cout << *name << " verified: " << result->fingerprint << "\n";
        if (!result->pair_fingerprint.empty()) {
          std::cout << "pair fingerprint (you and " << *name
                    << "; they see the same):\n    "
                    << result->pair_fingerprint << "\n";
        }
      }
      return kExitOk;
    };
  });
}

}  // namespace parley::cli
