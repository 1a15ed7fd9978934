#include <unistd.h>

#include <iostream>

#include "absl/strings/str_cat.h"
#include "client/cli/cli.h"
#include "client/core/payloads.h"
#include "crypto/encoding.h"
#include "crypto/file_util.h"

namespace parley::cli {
namespace {

int PrintSent(const GlobalOptions& options, const SendResult& r,
              const std::string& what) {
  if (r.queued) {
    if (options.json) {
      PrintJson({{"channel", r.channel},
                 {"queued", true},
                 {"id", r.id},
                 {"sequence", r.sequence},
                 {"envelope_hash", HexEncode(r.envelope_hash)},
                 {"reason", r.queued_reason}});
    } else {
      std::cout << Coloured(STDOUT_FILENO, "33", "queued, not yet sent")
                << ": " << what << " to " << r.channel << " is signed and "
                << "waits in the outbox as " << r.id
                << "; `parley sync` sends it when the server is back ("
                << r.queued_reason << ")\n";
    }
    return kExitQueued;
  }
  if (options.json) {
    PrintJson({{"channel", r.channel},
               {"log_index", r.log_index},
               {"duplicate", r.duplicate},
               {"queued", false},
               {"id", r.id},
               {"sequence", r.sequence},
               {"envelope_hash", HexEncode(r.envelope_hash)}});
  } else {
    std::cout << what << " to " << r.channel << ": logged at index "
              << r.log_index << (r.duplicate ? " (already logged)" : "")
              << "\n";
  }
  return kExitOk;
}

}  // namespace

void AddSendCommand(CLI::App& app, GlobalOptions& options, Handler* run) {
  CLI::App* send = app.add_subcommand(
      "send", "Encrypt and send a message to every member of a channel");
  struct SendArgs {
    std::string channel;
    std::string text;
    std::string file;
  };
  auto args = std::make_shared<SendArgs>();
  send->add_option("CHANNEL", args->channel, "Channel")->required();
  CLI::Option* text = send->add_option("--text", args->text, "Message text");
  CLI::Option* file =
      send->add_option("--file", args->file, "Send this file's contents");
  text->excludes(file);
  send->callback([&options, run, args, text, file] {
    *run = [&options, args, has_text = text->count() > 0,
            has_file = file->count() > 0]() -> int {
      if (!has_text && !has_file) {
        return ReportError(options, absl::InvalidArgumentError(
                                        "give --text TEXT or --file PATH"));
      }
      std::string content_type = kTextContentType;
      std::string payload = args->text;
      if (has_file) {
        absl::StatusOr<std::string> data = ReadFile(args->file);
        if (!data.ok()) return ReportError(options, data.status());
        std::string base = args->file.substr(args->file.rfind('/') + 1);
        absl::StatusOr<std::string> encoded =
            EncodeFilePayload({base, *std::move(data)});
        if (!encoded.ok()) return ReportError(options, encoded.status());
        content_type = kFileContentType;
        payload = *std::move(encoded);
      }
      absl::StatusOr<std::unique_ptr<Device>> device = OpenDevice(options);
      if (!device.ok()) return ReportError(options, device.status());
      absl::StatusOr<SendResult> sent =
          (*device)->Send(args->channel, content_type, payload);
      PrintWarnings(options, **device);
      if (!sent.ok()) return ReportError(options, sent.status());
      return PrintSent(options, *sent, "sent");
    };
  });

  CLI::App* relay = app.add_subcommand(
      "relay", "Mediators: relay a received message into another channel");
  struct RelayArgs {
    uint64_t index = 0;
    std::string to;
    bool verbatim = false;
    bool anonymous = false;
  };
  auto rargs = std::make_shared<RelayArgs>();
  relay->add_option("INDEX", rargs->index, "Log index of the message")
      ->required();
  relay->add_option("--to", rargs->to, "Destination channel")->required();
  CLI::Option* verbatim = relay->add_flag(
      "--verbatim", rargs->verbatim,
      "Pass the original signed message on: its author stays verifiable");
  CLI::Option* anonymous = relay->add_flag(
      "--anonymous", rargs->anonymous,
      "Re-send under your name only: the author is not revealed");
  verbatim->excludes(anonymous);
  relay->callback([&options, run, rargs] {
    *run = [&options, rargs]() -> int {
      if (!rargs->verbatim && !rargs->anonymous) {
        return ReportError(options, absl::InvalidArgumentError(
                                        "give --verbatim or --anonymous"));
      }
      absl::StatusOr<std::unique_ptr<Device>> device = OpenDevice(options);
      if (!device.ok()) return ReportError(options, device.status());
      absl::StatusOr<SendResult> sent = (*device)->Relay(
          rargs->index, rargs->to,
          rargs->verbatim ? RelayMode::kVerbatim : RelayMode::kAnonymous);
      PrintWarnings(options, **device);
      if (!sent.ok()) return ReportError(options, sent.status());
      return PrintSent(options, *sent,
                       absl::StrCat("relayed ", rargs->index,
                                    rargs->verbatim ? " verbatim"
                                                    : " without attribution"));
    };
  });

  CLI::App* receipts = app.add_subcommand(
      "receipts", "Signed delivery receipts for one message");
  auto index = std::make_shared<uint64_t>(0);
  receipts->add_option("INDEX", *index, "Log index of the message")
      ->required();
  receipts->callback([&options, run, index] {
    *run = [&options, index]() -> int {
      absl::StatusOr<std::unique_ptr<Device>> device = OpenDevice(options);
      if (!device.ok()) return ReportError(options, device.status());
      absl::StatusOr<std::vector<ReceiptView>> list =
          (*device)->Receipts(*index);
      PrintWarnings(options, **device);
      if (!list.ok()) return ReportError(options, list.status());
      bool all_verified = true;
      nlohmann::json out = nlohmann::json::array();
      for (const ReceiptView& r : *list) {
        all_verified &= r.verified;
        nlohmann::json j = {{"log_index", r.log_index},
                            {"recipient", r.recipient},
                            {"level", r.level},
                            {"time", r.time},
                            {"verified", r.verified}};
        if (!r.problem.empty()) j["problem"] = r.problem;
        out.push_back(j);
        if (!options.json) {
          std::cout << r.recipient << "  " << r.level << "  "
                    << absl::FormatTime("%Y-%m-%d %H:%M:%SZ",
                                        absl::FromUnixSeconds(r.time),
                                        absl::UTCTimeZone())
                    << "  "
                    << (r.verified ? "signature verified"
                                   : "NOT VERIFIED: " + r.problem)
                    << "  (log index " << r.log_index << ")\n";
        }
      }
      if (options.json) {
        PrintJson({{"envelope_index", *index}, {"receipts", out}});
      } else if (list->empty()) {
        std::cout << "no receipts yet for " << *index << "\n";
      }
      return all_verified ? kExitOk : kExitVerificationFailed;
    };
  });
}

}  // namespace parley::cli
