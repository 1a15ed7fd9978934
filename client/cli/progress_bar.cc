#include "client/cli/progress_bar.h"

#include <unistd.h>

#include <algorithm>
#include <iostream>

#include "absl/strings/str_cat.h"

namespace parley::cli {
namespace {

constexpr uint64_t kBarWidth = 30;

}  // namespace

ProgressBar::ProgressBar(std::string unit)
    : ProgressBar(std::move(unit), std::cerr, ::isatty(STDERR_FILENO) == 1) {}

ProgressBar::ProgressBar(std::string unit, std::ostream& out, bool enabled)
    : unit_(std::move(unit)), out_(out), enabled_(enabled) {}

void ProgressBar::Update(uint64_t done, uint64_t total,
                         std::string_view detail) {
  if (!enabled_) return;
  done = std::min(done, total);
  const uint64_t filled = total == 0 ? kBarWidth : kBarWidth * done / total;
  std::string line = absl::StrCat(
      "[", std::string(filled, '#'), std::string(kBarWidth - filled, '.'),
      "] ", done, "/", total, " ", unit_);
  if (!detail.empty()) absl::StrAppend(&line, "  ", std::string(detail));
  const size_t width = line.size();
  // A shorter line than the last one leaves no stale characters behind.
  if (width < last_width_) line.append(last_width_ - width, ' ');
  last_width_ = width;
  out_ << "\r" << line << std::flush;
  drawn_ = true;
}

void ProgressBar::Finish() {
  if (!drawn_) return;
  out_ << std::endl;
  drawn_ = false;
  last_width_ = 0;
}

}  // namespace parley::cli
