#include "client/cli.h"

#include <iostream>

namespace parley::cli {

int ExitCodeFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return kExitOk;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return kExitUsage;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
      return kExitUnavailable;
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated:
      return kExitRefused;
    case absl::StatusCode::kDataLoss:
      return kExitVerificationFailed;
    case absl::StatusCode::kNotFound:
      return kExitNotFound;
    default:
      return kExitError;
  }
}

int ReportError(const GlobalOptions& options, const absl::Status& status) {
  if (options.json) {
    nlohmann::json error = {
        {"error",
         {{"code", absl::StatusCodeToString(status.code())},
          {"message", std::string(status.message())}}}};
    std::cerr << error.dump() << std::endl;
  } else {
    std::cerr << "parley: " << status.message() << std::endl;
  }
  return ExitCodeFor(status);
}

void PrintJson(const nlohmann::json& json) {
  std::cout << json.dump() << std::endl;
}

absl::StatusOr<Profile> OpenProfile(const GlobalOptions& options) {
  absl::StatusOr<std::string> dir =
      ResolveProfileDir(options.home, options.profile);
  if (!dir.ok()) return dir.status();
  return Profile::Open(*dir);
}

absl::StatusOr<std::unique_ptr<Session>> OpenSession(
    const GlobalOptions& options) {
  absl::StatusOr<Profile> profile = OpenProfile(options);
  if (!profile.ok()) return profile.status();
  ConnectOptions connect;
  connect.server = options.server;
  connect.ca_fingerprint = options.ca_fingerprint;
  return Session::Connect(*profile, connect);
}

}  // namespace parley::cli
