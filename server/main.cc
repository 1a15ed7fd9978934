// parleyd: the Parley server.
//
//   parleyd [--config FILE] [--listen ADDR] [--data DIR] [--log-level LEVEL]
//   parleyd [--config FILE] init --data DIR [--origin NAME]
//           [--server-name NAME]... [--json]
//   parleyd check --data DIR
//   parleyd repair --rebuild-indexes --data DIR
// With --config, init adds the file's [tls] server_names. check and repair
// refuse to run while a parleyd holds DIR; their exit codes are in
// server/storage_check.h and docs/OPERATIONS.md.

#include <signal.h>

#include <cstdio>
#include <iostream>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "crypto/clock.h"
#include "crypto/ed25519.h"
#include "nlohmann/json.hpp"
#include "server/config.h"
#include "server/data_dir.h"
#include "server/parley_server.h"
#include "server/process_setup.h"
#include "server/storage_check.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"

namespace {

constexpr int kExitStartupError = 1;

void SetUpLogging(const std::string& level) {
  auto logger = spdlog::stderr_color_mt("parleyd");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
}

int RunInit(const std::string& data, const std::string& origin,
            const std::vector<std::string>& names, bool json) {
  parley::InitOptions options;
  options.origin = origin;
  options.server_names = names;
  options.now = absl::Now();
  absl::StatusOr<parley::InitResult> result =
      parley::InitDataDir(data, options);
  if (!result.ok()) {
    std::cerr << "parleyd init: " << result.status().message() << "\n";
    return kExitStartupError;
  }
  if (json) {
    nlohmann::json out = {{"ca_fingerprint", result->ca_fingerprint},
                          {"bootstrap_invite", result->bootstrap_invite},
                          {"origin", result->origin},
                          {"verifier_key", result->verifier_key}};
    std::cout << out.dump() << std::endl;
  } else {
    std::cout << "Initialised parleyd data directory " << data << "\n"
              << "  log origin:        " << result->origin << "\n"
              << "  log verifier key:  " << result->verifier_key << "\n"
              << "  CA fingerprint:    " << result->ca_fingerprint << "\n"
              << "  bootstrap invite:  " << result->bootstrap_invite
              << "   (one-time; enrolls the first admin)\n";
  }
  return 0;
}

int RunServer(const parley::ServerConfig& config) {
  // Block the stop signals in every thread (gRPC's included) and take them
  // synchronously here.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  parley::ConfigureServerProcess();

  absl::StatusOr<std::unique_ptr<parley::ParleyServer>> server =
      parley::ParleyServer::Start(config, parley::SystemClock());
  if (!server.ok()) {
    spdlog::critical("cannot start: {}", std::string(server.status().message()));
    return kExitStartupError;
  }
  spdlog::info("CA fingerprint {}", (*server)->ca_fingerprint());
  // Scripts wait for this line on stdout.
  std::cout << "parleyd ready on port " << (*server)->port() << std::endl;

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  spdlog::info("received {}, shutting down", strsignal(signal_number));
  (*server)->Shutdown();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"parleyd: the Parley confidential messaging and deconfliction "
               "server"};
  app.set_version_flag("--version", parley::ParleydVersion());
  std::string config_path;
  std::string listen, data, log_level;
  app.add_option("--config", config_path, "TOML configuration file")
      ->check(CLI::ExistingFile);
  app.add_option("--listen", listen, "Listen address HOST:PORT (default 127.0.0.1:7443)");
  app.add_option("--data", data, "Data directory (default ./var/parley)");
  app.add_option("--log-level", log_level,
                 "trace, debug, info, warn, error (default info)");

  CLI::App* init = app.add_subcommand(
      "init", "Create a new data directory: development CA and server "
              "certificate, log signing key, one-time admin invite");
  std::string init_data, origin;
  std::vector<std::string> server_names;
  bool json = false;
  init->add_option("--data", init_data, "Data directory to create")->required();
  init->add_option("--origin", origin,
                   "Log origin (default: HOSTNAME/parley/RANDOM)");
  init->add_option("--server-name", server_names,
                   "Extra DNS name or IP address for the server certificate");
  init->add_flag("--json", json, "Print the result as one JSON document");

  CLI::App* check = app.add_subcommand(
      "check", "Verify the log (entries, tree, checkpoints) and every index "
               "against it; names the first bad key. Exit 0 clean, 3 index "
               "damage (repairable), 4 log damage (restore from backup), "
               "1 could not check");
  std::string check_data;
  check->add_option("--data", check_data, "Data directory to check")
      ->required();
  CLI::App* repair = app.add_subcommand(
      "repair", "Rebuild every index from the log (refuses if the log itself "
                "is damaged). Exit codes as for check");
  std::string repair_data;
  bool rebuild_indexes = false;
  repair->add_option("--data", repair_data, "Data directory to repair")
      ->required();
  repair->add_flag("--rebuild-indexes", rebuild_indexes,
                   "Drop every derived index and write it again from the log")
      ->required();
  app.require_subcommand(0, 1);

  CLI11_PARSE(app, argc, argv);

  if (absl::Status s = parley::InitCrypto(); !s.ok()) {
    std::cerr << "parleyd: " << s.message() << "\n";
    return kExitStartupError;
  }
  if (init->parsed()) {
    if (!config_path.empty()) {
      absl::StatusOr<parley::ServerConfig> config =
          parley::LoadServerConfig(config_path, {});
      if (!config.ok()) {
        std::cerr << "parleyd: " << config.status().message() << "\n";
        return kExitStartupError;
      }
      server_names.insert(server_names.end(),
                          config->tls_server_names.begin(),
                          config->tls_server_names.end());
    }
    return RunInit(init_data, origin, server_names, json);
  }

  if (check->parsed()) return parley::RunStorageCheck(check_data);
  if (repair->parsed() && rebuild_indexes) {
    return parley::RunIndexRebuild(repair_data);
  }

  parley::ConfigOverrides overrides;
  if (!listen.empty()) overrides.listen = listen;
  if (!data.empty()) overrides.data = data;
  if (!log_level.empty()) overrides.log_level = log_level;
  absl::StatusOr<parley::ServerConfig> config =
      parley::LoadServerConfig(config_path, overrides);
  if (!config.ok()) {
    std::cerr << "parleyd: " << config.status().message() << "\n";
    return kExitStartupError;
  }
  SetUpLogging(config->log_level);
  return RunServer(*config);
}
