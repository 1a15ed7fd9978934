#include <iostream>

#include "client/cli/cli.h"
#include "crypto/fingerprint.h"

namespace parley::cli {

void AddEnrollCommand(CLI::App& app, GlobalOptions& options, Handler* run) {
  CLI::App* cmd = app.add_subcommand(
      "enroll", "Create this device's keys and register them with an invite");
  auto invite = std::make_shared<std::string>();
  auto name = std::make_shared<std::string>();
  cmd->add_option("--invite", *invite, "One-time invite code")->required();
  cmd->add_option("--name", *name,
                  "Member name (required with the bootstrap invite)");
  cmd->callback([&options, run, invite, name] {
    *run = [&options, invite, name]() -> int {
      absl::StatusOr<Profile> profile = OpenProfile(options);
      if (!profile.ok()) return ReportError(options, profile.status());
      Device::Options device_options;
      device_options.connect.server = options.server;
      device_options.connect.ca_fingerprint = options.ca_fingerprint;
      device_options.passphrase.fd = options.passphrase_fd;
      absl::StatusOr<std::unique_ptr<Device>> device = Device::Enroll(
          *profile, device_options, EnrollParams{*invite, *name});
      if (!device.ok()) return ReportError(options, device.status());
      const ProfileIdentity& id = (*device)->identity();
      absl::StatusOr<std::string> fp = IdentityFingerprint(id.identity_key);
      if (options.json) {
        PrintJson({{"name", id.name},
                   {"role", std::string(RoleName(id.role))},
                   {"organisation", id.organisation},
                   {"registration_index", id.registration_index},
                   {"fingerprint", fp.ok() ? *fp : ""},
                   {"origin", id.origin},
                   {"verifier_key", id.verifier_key},
                   {"profile", profile->dir()}});
      } else {
        std::cout << "enrolled as     " << id.name << " ("
                  << RoleName(id.role) << ")\n"
                  << "log index       " << id.registration_index << "\n"
                  << "fingerprint     " << (fp.ok() ? *fp : "") << "\n"
                  << "profile         " << profile->dir() << "\n"
                  << "Read your fingerprint to the people you will talk to; "
                     "they run `parley verify "
                  << id.name << " FINGERPRINT`.\n";
      }
      return kExitOk;
    };
  });
}

}  // namespace parley::cli
