#include <iostream>

#include "client/cli/cli.h"

namespace parley::cli {

void AddStatusCommand(CLI::App& app, GlobalOptions& options, Handler* run) {
  CLI::App* cmd = app.add_subcommand(
      "status", "Connect to parleyd over pinned TLS and show its version, "
                "log origin and tree size");
  cmd->callback([&options, run] {
    *run = [&options]() -> int {
      absl::StatusOr<std::unique_ptr<Session>> session = OpenSession(options);
      if (!session.ok()) return ReportError(options, session.status());
      absl::StatusOr<v1::ServerInfo> info = (*session)->GetServerInfo();
      if (!info.ok()) return ReportError(options, info.status());
      if (options.json) {
        PrintJson({{"server", (*session)->pin().address},
                   {"ca_fingerprint", (*session)->pin().ca_fingerprint},
                   {"version", info->version()},
                   {"origin", info->origin()},
                   {"verifier_key", info->verifier_key()},
                   {"tree_size", info->tree_size()}});
      } else {
        std::cout << "server        " << (*session)->pin().address << "\n"
                  << "TLS           pinned CA "
                  << (*session)->pin().ca_fingerprint << "\n"
                  << "version       parleyd " << info->version() << "\n"
                  << "log origin    " << info->origin() << "\n"
                  << "verifier key  " << info->verifier_key() << "\n"
                  << "tree size     " << info->tree_size() << "\n";
      }
      return kExitOk;
    };
  });
}

}  // namespace parley::cli
