// parley gui [--port N] [--no-open]: the local web UI (client/gui.h).

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "client/cli.h"
#include "client/gui.h"

extern char** environ;

namespace parley::cli {
namespace {

std::atomic<GuiServer*> g_serving{nullptr};

// SIGINT and SIGTERM are blocked in every thread and taken here with
// sigwait, so no work happens in a signal handler.
void WaitForStopSignal(sigset_t set) {
  int sig = 0;
  sigwait(&set, &sig);
  if (GuiServer* server = g_serving.load(); server != nullptr) {
    server->Stop();
  } else {
    std::_Exit(130);  // interrupted before the server started
  }
}

// Starts the desktop's browser on `url` (xdg-open, no shell). The token is
// then briefly on xdg-open's command line; --no-open avoids that.
absl::Status OpenBrowser(const std::string& url) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null",
                                   O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null",
                                   O_WRONLY, 0);
  std::string program = "xdg-open";
  std::string argument = url;
  char* argv[] = {program.data(), argument.data(), nullptr};
  pid_t pid = 0;
  const int rc =
      posix_spawnp(&pid, program.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    return absl::UnavailableError(
        "could not start a browser (xdg-open); open the address above "
        "yourself");
  }
  std::thread([pid] { ::waitpid(pid, nullptr, 0); }).detach();
  return absl::OkStatus();
}

int RunGui(const GlobalOptions& options, int port, bool no_open) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread(WaitForStopSignal, set).detach();

  if (port < 0 || port > 65535) {
    return ReportError(options, absl::InvalidArgumentError(absl::StrCat(
        "--port ", port, ": give 1 to 65535, or 0 for any free port")));
  }
  absl::StatusOr<std::unique_ptr<Device>> device = OpenDevice(options);
  if (!device.ok()) return ReportError(options, device.status());
  GuiServer::Options server_options;
  server_options.port = port;
  absl::StatusOr<std::unique_ptr<GuiServer>> server =
      GuiServer::Bind(server_options);
  if (!server.ok()) return ReportError(options, server.status());
  GuiApi api(**device, GuiApi::Options());
  api.Register(**server);
  api.Start();
  g_serving.store(server->get());

  const std::string url = (*server)->url();
  if (options.json) {
    PrintJson({{"url", url}, {"port", (*server)->port()}});
  } else {
    std::cout << "parley gui: serving " << (*device)->identity().name
              << "'s device on 127.0.0.1:" << (*server)->port()
              << " only; stop with Ctrl-C\n"
              << "open this address (it holds this run's session token; do "
                 "not share it):\n"
              << url << std::endl;
  }
  if (!no_open) {
    if (absl::Status s = OpenBrowser(url); !s.ok()) {
      std::cerr << "parley: " << s.message() << std::endl;
    }
  }
  absl::Status served = (*server)->Serve();
  g_serving.store(nullptr);
  api.Stop();
  PrintWarnings(options, **device);
  if (!served.ok()) return ReportError(options, served);
  if (!options.json) std::cout << "parley gui: stopped" << std::endl;
  return kExitOk;
}

}  // namespace

void AddGuiCommand(CLI::App& app, GlobalOptions& options, Handler* run) {
  CLI::App* gui = app.add_subcommand(
      "gui", "Serve the local web UI on 127.0.0.1 (keys and plaintext stay "
             "in this process)");
  auto port = std::make_shared<int>(0);
  auto no_open = std::make_shared<bool>(false);
  gui->add_option("--port", *port, "Port on 127.0.0.1 (0: any free port)")
      ->capture_default_str();
  gui->add_flag("--no-open", *no_open,
                "Only print the address; do not start a browser");
  gui->callback([&options, run, port, no_open] {
    *run = [&options, port, no_open] {
      return RunGui(options, *port, *no_open);
    };
  });
}

}  // namespace parley::cli
