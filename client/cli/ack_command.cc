// parley ack ID [--object REASON]

#include <unistd.h>

#include <iostream>

#include "client/cli/cli.h"

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
      absl::StatusOr<AckResult> r =
          (*device)->notifications().AcknowledgeNotification(*id, *objection);
      PrintWarnings(options, **device);
      if (!r.ok()) return ReportError(options, r.status());
      const char* level =
          objection->empty() ? "acknowledged-receipt" : "objected";
      if (r->queued) {
        if (options.json) {
          PrintJson({{"id", *id},
                     {"level", level},
                     {"version", r->version},
                     {"queued", true},
                     {"outbox_id", r->outbox_id},
                     {"reason", r->queued_reason}});
        } else {
          std::cout << Coloured(STDOUT_FILENO, "33", "queued, not yet sent")
                    << ": your "
                    << (objection->empty() ? "acknowledgement of receipt"
                                           : "objection")
                    << " of " << *id << " version " << r->version
                    << " is signed and waits in the outbox as "
                    << r->outbox_id
                    << "; `parley sync` sends it when the server is back ("
                    << r->queued_reason << ")\n";
        }
        return kExitQueued;
      }
      if (options.json) {
        PrintJson({{"id", *id},
                   {"level", level},
                   {"version", r->version},
                   {"queued", false},
                   {"log_index", r->log_index},
                   {"duplicate", r->duplicate}});
      } else if (objection->empty()) {
        std::cout << "acknowledged receipt of " << *id << " (log index "
                  << r->log_index
                  << "); this says you received it, nothing more\n";
      } else {
        std::cout << "objected to " << *id << " (log index " << r->log_index
                  << "); the reason is readable by the coordinator and "
                     "mediators only\n";
      }
      return kExitOk;
    };
  });
}

}  // namespace parley::cli
