// parley proof export ID --out FILE, parley proof verify FILE

#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "client/cli/cli.h"
#include "client/core/local_state.h"
#include "client/deconfliction/proof_bundle.h"
#include "crypto/file_util.h"

namespace parley::cli {

void AddProofCommand(CLI::App& app, GlobalOptions& options, Handler* run) {
  CLI::App* proof = app.add_subcommand(
      "proof", "Offline-verifiable proof bundles of notifications");
  proof->require_subcommand(1);
  auto id = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  CLI::App* exp = proof->add_subcommand(
      "export", "Every log entry about a notification you may see (a party: "
                "its own view), with proofs against one checkpoint");
  exp->add_option("ID", *id, "Notification id")->required();
  exp->add_option("--out", *out, "Bundle file")->required();
  exp->callback([&options, run, id, out] {
    *run = [&options, id, out]() -> int {
      absl::StatusOr<std::unique_ptr<Device>> device = OpenDevice(options);
      if (!device.ok()) return ReportError(options, device.status());
      absl::StatusOr<std::string> bundle = (*device)->notifications().ExportProofBundle(*id);
      PrintWarnings(options, **device);
      if (!bundle.ok()) return ReportError(options, bundle.status());
      if (absl::Status s = WriteFileAtomically(*out, *bundle, 0644); !s.ok()) {
        return ReportError(options, s);
      }
      nlohmann::json j = nlohmann::json::parse(*bundle, nullptr, false);
      const size_t entries = j.is_object() ? j["entries"].size() : 0;
      if (options.json) {
        PrintJson({{"id", *id}, {"out", *out}, {"entries", entries}});
      } else {
        std::cout << "wrote a proof bundle of " << entries << " log entries "
                  << "about " << *id << " to " << *out
                  << " (verify offline: parley proof verify " << *out << ")\n";
      }
      return kExitOk;
    };
  });

  auto file = std::make_shared<std::string>();
  auto key = std::make_shared<std::string>();
  CLI::App* verify = proof->add_subcommand(
      "verify", "Verify a bundle offline, without a server");
  verify->add_option("FILE", *file, "Bundle file")->required();
  verify->add_option("--verifier-key", *key,
                     "The log's verifier key as you know it (default: the "
                     "key pinned in your profile, if any)");
  verify->callback([&options, run, file, key] {
    *run = [&options, file, key]() -> int {
      absl::StatusOr<std::string> text = ReadFile(*file);
      if (!text.ok()) return ReportError(options, text.status());
      ProofBundleVerifyOptions opts;
      opts.expected_verifier_key = *key;
      if (opts.expected_verifier_key.empty()) {
        // The profile's pinned key, when there is an enrolled profile.
        if (absl::StatusOr<Profile> profile = OpenProfile(options);
            profile.ok()) {
          if (absl::StatusOr<ProfileIdentity> me =
                  LocalState::LoadIdentityFrom(profile->dir());
              me.ok()) {
            opts.expected_verifier_key = me->verifier_key;
          }
        }
      }
      absl::StatusOr<ProofReport> report = VerifyProofBundle(*text, opts);
      if (!report.ok()) {
        if (options.json) {
          std::cerr << nlohmann::json(
                           {{"error",
                             {{"code", "VERIFICATION_FAILED"},
                              {"message",
                               std::string(report.status().message())}}}})
                           .dump(-1, ' ', false,
                                 nlohmann::json::error_handler_t::replace)
                    << std::endl;
        } else {
          std::cerr << "parley: the bundle does NOT verify: "
                    << TerminalSafe(std::string(report.status().message()))
                    << std::endl;
        }
        return kExitVerificationFailed;
      }
      if (options.json) {
        PrintJson(ProofReportJson(*report));
      } else {
        std::cout << TerminalSafe(report->text);
        if (!report->text.empty() && report->text.back() != '\n') {
          std::cout << "\n";
        }
      }
      return kExitOk;
    };
  });
}

}  // namespace parley::cli
