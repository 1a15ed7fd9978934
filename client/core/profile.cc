#include "client/core/profile.h"

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "crypto/file_util.h"
#include "nlohmann/json.hpp"

namespace parley {
namespace {

constexpr char kServerFile[] = "server.json";
constexpr char kCaFile[] = "ca.pem";

absl::Status ValidateProfileName(const std::string& profile) {
  if (profile.empty() || profile.size() > 64) {
    return absl::InvalidArgumentError("profile name must be 1-64 characters");
  }
  for (char c : profile) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' &&
        c != '_' && c != '.') {
      return absl::InvalidArgumentError(absl::StrCat(
          "profile name \"", profile,
          "\" may hold only letters, digits, '-', '_' and '.'"));
    }
  }
  if (profile == "." || profile == "..") {
    return absl::InvalidArgumentError("profile name may not be . or ..");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> ResolveProfileDir(const std::string& home_flag,
                                              const std::string& profile) {
  if (absl::Status s = ValidateProfileName(profile); !s.ok()) return s;
  std::string base;
  if (!home_flag.empty()) {
    base = home_flag;
  } else if (const char* env = std::getenv("PARLEY_HOME"); env && *env) {
    base = env;
  } else if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg) {
    base = absl::StrCat(xdg, "/parley");
  } else if (const char* home = std::getenv("HOME"); home && *home) {
    base = absl::StrCat(home, "/.local/share/parley");
  } else {
    return absl::FailedPreconditionError(
        "cannot find a state directory: set HOME, PARLEY_HOME or --home");
  }
  return absl::StrCat(base, "/", profile);
}

absl::StatusOr<Profile> Profile::Open(const std::string& dir) {
  std::error_code ec;
  if (std::filesystem::exists(dir, ec) &&
      !std::filesystem::is_directory(dir, ec)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "state directory ", dir, " exists and is not a directory"));
  }
  if (absl::Status s = MakeDirectories(dir, 0700); !s.ok()) return s;
  ::chmod(dir.c_str(), 0700);
  return Profile(dir);
}

absl::StatusOr<std::optional<ServerPin>> Profile::LoadServerPin() const {
  const std::string server_path = absl::StrCat(dir_, "/", kServerFile);
  absl::StatusOr<std::string> text = ReadFile(server_path);
  if (!text.ok()) {
    if (absl::IsNotFound(text.status())) return std::nullopt;
    return text.status();
  }
  nlohmann::json json =
      nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object() ||
      !json.value("address", nlohmann::json()).is_string() ||
      !json.value("ca_fingerprint", nlohmann::json()).is_string()) {
    return absl::DataLossError(absl::StrCat(
        server_path, " is corrupted; remove it and connect again with "
        "--server and --ca-fingerprint"));
  }
  ServerPin pin;
  pin.address = json["address"].get<std::string>();
  pin.ca_fingerprint = json["ca_fingerprint"].get<std::string>();
  absl::StatusOr<std::string> pem = ReadFile(absl::StrCat(dir_, "/", kCaFile));
  if (!pem.ok()) {
    return absl::DataLossError(absl::StrCat(
        "the pinned CA certificate is missing from ", dir_,
        "; connect again with --server and --ca-fingerprint"));
  }
  pin.ca_pem = std::move(*pem);
  return pin;
}

absl::Status Profile::SaveServerPin(const ServerPin& pin) const {
  if (absl::Status s = WriteFileAtomically(absl::StrCat(dir_, "/", kCaFile),
                                           pin.ca_pem, 0600);
      !s.ok()) {
    return s;
  }
  nlohmann::json json = {{"address", pin.address},
                         {"ca_fingerprint", pin.ca_fingerprint}};
  return WriteFileAtomically(absl::StrCat(dir_, "/", kServerFile),
                             json.dump(2) + "\n", 0600);
}

}  // namespace parley
