#ifndef PARLEY_CLIENT_GUI_GUI_LAUNCH_H_
#define PARLEY_CLIENT_GUI_GUI_LAUNCH_H_

// Starting the browser on `parley gui`'s address without putting the
// session token on a command line, where any local user can read it
// (/proc/PID/cmdline). As Jupyter does: the address goes into a small HTML
// file that only this user can read and that sends the browser on; the
// browser is started on the file's path, and the file is removed soon after
// and when `parley gui` stops.
//
// The file is opened as file://, not served by `parley gui`, so the GUI's
// Content-Security-Policy does not apply to it; it needs no script anyway
// (a meta refresh, and a link for a browser that does not follow it).

#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "crypto/random.h"

namespace parley {

// Where the file goes: `xdg_runtime_dir` ($XDG_RUNTIME_DIR) when it is an
// absolute path to a directory owned by this user that group and others
// cannot enter (the XDG rule: 0700); else `fallback` (the profile
// directory, which Profile keeps 0700). `xdg_runtime_dir` may be null.
std::string GuiLaunchDirectory(const char* xdg_runtime_dir,
                               const std::string& fallback);

// The page: <meta http-equiv="refresh"> to `url` and a link to it, with
// `url` escaped for an HTML attribute. No script, no external resource.
std::string GuiLaunchPage(const std::string& url);

// The file holding GuiLaunchPage(url). Thread-safe.
class GuiLaunchFile {
 public:
  // Creates a new file in `dir` with a random name, mode 0600, exclusively
  // (never over an existing file, never through a symbolic link), and
  // writes the page. Unavailable, naming the path, if it cannot.
  static absl::StatusOr<std::unique_ptr<GuiLaunchFile>> Create(
      const std::string& dir, const std::string& url,
      Random& random = SystemRandom());
  // Remove(), and stops the RemoveAfter thread.
  ~GuiLaunchFile();
  GuiLaunchFile(const GuiLaunchFile&) = delete;
  GuiLaunchFile& operator=(const GuiLaunchFile&) = delete;

  // Absolute path of the file (it holds no secret).
  const std::string& path() const { return path_; }
  // Removes the file once `delay` has passed (a background thread), or
  // sooner on Remove or destruction. Call at most once.
  void RemoveAfter(absl::Duration delay);
  // Removes the file now; later calls do nothing.
  void Remove();

 private:
  explicit GuiLaunchFile(std::string path) : path_(std::move(path)) {}

  const std::string path_;
  absl::Mutex mu_;
  bool removed_ ABSL_GUARDED_BY(mu_) = false;
  std::thread remover_;
};

// Starts `opener` (looked up in PATH, no shell) with one argument,
// `argument`, its output discarded, and reaps it in the background. The
// opener is not waited for. Unavailable if it cannot be started.
absl::Status StartOpener(const std::string& opener,
                         const std::string& argument);

}  // namespace parley

#endif  // PARLEY_CLIENT_GUI_GUI_LAUNCH_H_
