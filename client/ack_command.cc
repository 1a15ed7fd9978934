// parley ack ID [--object REASON]

#include <iostream>

#include "client/cli.h"

namespace parley::cli {

void AddAckCommand(CLI::App& app, GlobalOptions& options, Handler* run) {
  CLI::App* ack = app.add_subcommand(
      "ack", "Acknowledge receipt of a notification (not approval), or "
             "object with a reason encrypted to the coordinator and mediators");
  auto id = std::make_shared<std::string>();
  auto objection = std::make_shared<std::string>();
  ack->add_option("ID", *id, "Notification id")->required();
  ack->add_option("--object", *objection, "Object, with this reason");
  ack->callback([&options, run, id, objection] {
    *run = [&options, id, objection]() -> int {
      absl::StatusOr<std::unique_ptr<Device>> device = OpenDevice(options);
      if (!device.ok()) return ReportError(options, device.status());
      absl::StatusOr<uint64_t> index =
          (*device)->AcknowledgeNotification(*id, *objection);
      PrintWarnings(options, **device);
      if (!index.ok()) return ReportError(options, index.status());
      const char* level =
          objection->empty() ? "acknowledged-receipt" : "objected";
      if (options.json) {
        PrintJson({{"id", *id}, {"level", level}, {"log_index", *index}});
      } else if (objection->empty()) {
        std::cout << "acknowledged receipt of " << *id << " (log index "
                  << *index << "); this says you received it, nothing more\n";
      } else {
        std::cout << "objected to " << *id << " (log index " << *index
                  << "); the reason is readable by the coordinator and "
                     "mediators only\n";
      }
      return kExitOk;
    };
  });
}

}  // namespace parley::cli
