// parley gui [--port N] [--no-open]: the local web UI (client/gui/gui.h).

#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "client/cli/cli.h"
#include "client/gui/gui.h"
#include "client/gui/gui_launch.h"

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

// How long the launch file (client/gui/gui_launch.h) stays for a browser that
// starts slowly; it is removed at exit in any case.
constexpr absl::Duration kLaunchFileLifetime = absl::Seconds(60);

// Starts the desktop's browser (xdg-open) on a launch file that sends it to
// `url`: the token never appears on a command line. Returns the file, to be
// removed when it has served or at exit.
absl::StatusOr<std::unique_ptr<GuiLaunchFile>> OpenBrowser(
    const std::string& profile_dir, const std::string& url) {
  absl::StatusOr<std::unique_ptr<GuiLaunchFile>> file = GuiLaunchFile::Create(
      GuiLaunchDirectory(std::getenv("XDG_RUNTIME_DIR"), profile_dir), url);
  if (!file.ok()) return file.status();
  if (absl::Status s = StartOpener("xdg-open", (*file)->path()); !s.ok()) {
    return s;
  }
  (*file)->RemoveAfter(kLaunchFileLifetime);
  return file;
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
  std::unique_ptr<GuiLaunchFile> launch_file;  // removed on return
  if (!no_open) {
    absl::StatusOr<Profile> profile = OpenProfile(options);
    absl::StatusOr<std::unique_ptr<GuiLaunchFile>> opened =
        profile.ok() ? OpenBrowser(profile->dir(), url)
                     : absl::StatusOr<std::unique_ptr<GuiLaunchFile>>(
                           profile.status());
    if (opened.ok()) {
      launch_file = *std::move(opened);
    } else {
      std::cerr << "parley: " << opened.status().message()
                << "; open the address above yourself" << std::endl;
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
