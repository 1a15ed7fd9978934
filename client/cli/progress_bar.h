#ifndef PARLEY_CLIENT_CLI_PROGRESS_BAR_H_
#define PARLEY_CLIENT_CLI_PROGRESS_BAR_H_

// The one progress bar of the CLI's long commands (`log audit`, `notify
// --from-file`, `notifications export`):
//
//   [#########.....................] 60/200 lines  58 accepted, 2 refused
//
// redrawn in place with "\r" on a terminal. It draws only when its stream is
// a terminal, so output that is piped, redirected or parsed (--json) never
// has it mixed in. Not thread-safe: call it from one thread.

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

namespace parley::cli {

class ProgressBar {
 public:
  // On stderr, when stderr is a terminal.
  explicit ProgressBar(std::string unit);
  // On `out` when `enabled` (tests). `out` must outlive the bar.
  ProgressBar(std::string unit, std::ostream& out, bool enabled);
  ~ProgressBar() { Finish(); }
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  bool enabled() const { return enabled_; }
  // Redraws with `done` of `total` units done and `detail` after them.
  void Update(uint64_t done, uint64_t total, std::string_view detail = {});
  // Ends the bar's line if anything was drawn; later calls do nothing until
  // the next Update.
  void Finish();

 private:
  const std::string unit_;
  std::ostream& out_;
  const bool enabled_;
  bool drawn_ = false;
  size_t last_width_ = 0;  // of the last line drawn, to blank what is left
};

}  // namespace parley::cli

#endif  // PARLEY_CLIENT_CLI_PROGRESS_BAR_H_
