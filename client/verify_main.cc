// parley-verify: checks Parley evidence offline, for inquiries and auditors
// who hold a file and the log's verifier key but no account, server or
// network. Links only client/deconfliction, storage/tlog and crypto/.
//
//   parley-verify bundle FILE [--verifier-key KEY] [--json]
//       A proof bundle (`parley proof export`): every entry, signature and
//       proof against the bundle's checkpoint (PROTOCOL.md, proof bundles).
//   parley-verify checkpoint FILE --verifier-key KEY [--json]
//       A signed checkpoint note (`parley log checkpoint`): the log's
//       signature over origin, tree size and root hash.
//
// Exit status: 0 verified, 1 the file cannot be read, 2 bad arguments,
// 5 the evidence does NOT verify (the same codes as `parley`).

#include <iostream>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "client/deconfliction/proof_bundle.h"
#include "client/deconfliction/terminal_safe.h"
#include "crypto/ed25519.h"
#include "crypto/encoding.h"
#include "crypto/file_util.h"
#include "nlohmann/json.hpp"
#include "storage/tlog/checkpoint.h"
#include "storage/tlog/note.h"

namespace parley {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitError = 1;
constexpr int kExitUsage = 2;
constexpr int kExitVerificationFailed = 5;

void PrintJson(const nlohmann::json& json) {
  // Names and reasons come from the file: invalid UTF-8 is replaced.
  std::cout << json.dump(-1, ' ', false,
                         nlohmann::json::error_handler_t::replace)
            << std::endl;
}

// Reports `status` on stderr (as {"error": ...} with --json) and returns
// `exit_code`.
int Fail(bool json, const absl::Status& status, std::string_view code,
         std::string_view prefix, int exit_code) {
  const std::string message(status.message());
  if (json) {
    std::cerr << nlohmann::json(
                     {{"error", {{"code", code}, {"message", message}}}})
                     .dump(-1, ' ', false,
                           nlohmann::json::error_handler_t::replace)
              << std::endl;
  } else {
    std::cerr << "parley-verify: " << prefix << TerminalSafe(message)
              << std::endl;
  }
  return exit_code;
}

int VerifyBundle(const std::string& file, const std::string& key, bool json) {
  absl::StatusOr<std::string> text = ReadFile(file);
  if (!text.ok()) return Fail(json, text.status(), "IO", "", kExitError);
  ProofBundleVerifyOptions options;
  options.expected_verifier_key = key;
  absl::StatusOr<ProofReport> report = VerifyProofBundle(*text, options);
  if (!report.ok()) {
    return Fail(json, report.status(), "VERIFICATION_FAILED",
                "the bundle does NOT verify: ", kExitVerificationFailed);
  }
  if (json) {
    PrintJson(ProofReportJson(*report));
  } else {
    std::cout << TerminalSafe(report->text);
    if (!report->text.empty() && report->text.back() != '\n') std::cout << "\n";
  }
  return kExitOk;
}

int VerifyCheckpoint(const std::string& file, const std::string& key,
                     bool json) {
  absl::StatusOr<std::string> note = ReadFile(file);
  if (!note.ok()) return Fail(json, note.status(), "IO", "", kExitError);
  absl::StatusOr<NoteVerifier> verifier = ParseVerifierKey(key);
  if (!verifier.ok()) {
    return Fail(json, verifier.status(), "INVALID_ARGUMENT",
                "--verifier-key: ", kExitUsage);
  }
  // The log signs its checkpoints under its origin: the key's name.
  absl::StatusOr<SignedCheckpoint> checkpoint =
      VerifyCheckpointNote(*note, *verifier, verifier->name);
  if (!checkpoint.ok()) {
    return Fail(json, checkpoint.status(), "VERIFICATION_FAILED",
                "the checkpoint does NOT verify: ", kExitVerificationFailed);
  }
  if (json) {
    PrintJson({{"verified", true},
               {"origin", checkpoint->origin},
               {"tree_size", checkpoint->size},
               {"root_hash", Base64Encode(checkpoint->root_hash)}});
  } else {
    std::cout << "checkpoint verified: signed by " << TerminalSafe(key)
              << "\n  origin    " << TerminalSafe(checkpoint->origin)
              << "\n  tree size " << checkpoint->size << "\n  root hash "
              << Base64Encode(checkpoint->root_hash) << "\n";
  }
  return kExitOk;
}

}  // namespace
}  // namespace parley

int main(int argc, char** argv) {
  CLI::App app{
      "parley-verify: check Parley proof bundles and checkpoints offline"};
  app.set_version_flag("--version", PARLEY_VERSION);
  app.require_subcommand(1);
  bool json = false;
  app.add_flag("--json", json,
               "Print one JSON document on stdout; errors on stderr");
  app.fallthrough();

  std::string file;
  std::string key;
  CLI::App* bundle = app.add_subcommand(
      "bundle", "Verify a proof bundle (parley proof export)");
  bundle->add_option("FILE", file, "Bundle file")->required();
  bundle->add_option("--verifier-key", key,
                     "The log's verifier key as you know it independently; "
                     "without it the bundle's own key is used and the "
                     "report says so");
  CLI::App* checkpoint = app.add_subcommand(
      "checkpoint", "Verify a signed checkpoint note (parley log checkpoint)");
  checkpoint->add_option("FILE", file, "Checkpoint note file")->required();
  checkpoint->add_option("--verifier-key", key, "The log's verifier key")
      ->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : parley::kExitUsage;
  }
  if (absl::Status s = parley::InitCrypto(); !s.ok()) {
    std::cerr << "parley-verify: " << s.message() << std::endl;
    return parley::kExitError;
  }
  if (bundle->parsed()) return parley::VerifyBundle(file, key, json);
  return parley::VerifyCheckpoint(file, key, json);
}
