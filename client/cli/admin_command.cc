#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "client/cli/cli.h"

namespace parley::cli {

void AddAdminCommand(CLI::App& app, GlobalOptions& options, Handler* run) {
  CLI::App* admin = app.add_subcommand("admin", "Server administration");
  admin->require_subcommand(1);

  CLI::App* invite = admin->add_subcommand(
      "invite", "Create a one-time invite (the code is shown once)");
  struct InviteArgs {
    std::string role;
    std::string name;
    std::string org;
    std::string expires = "72h";
  };
  auto args = std::make_shared<InviteArgs>();
  invite->add_option("--role", args->role,
                     "admin, mediator, coordinator, party or observer")
      ->required();
  invite->add_option("--name", args->name, "The new member's name")
      ->required();
  invite->add_option("--org", args->org, "Organisation");
  invite->add_option("--expires", args->expires,
                     "Validity, e.g. 72h, 30m (default 72h)");
  invite->callback([&options, run, args] {
    *run = [&options, args]() -> int {
      absl::StatusOr<MemberRole> role = ParseRoleName(args->role);
      if (!role.ok()) return ReportError(options, role.status());
      absl::Duration expires;
      if (!absl::ParseDuration(args->expires, &expires) ||
          expires <= absl::ZeroDuration()) {
        return ReportError(options,
                           absl::InvalidArgumentError(absl::StrCat(
                               "--expires ", args->expires,
                               " is not a positive duration like 72h")));
      }
      absl::StatusOr<std::unique_ptr<Device>> device = OpenDevice(options);
      if (!device.ok()) return ReportError(options, device.status());
      absl::StatusOr<v1::Invite> created =
          (*device)->CreateInvite(*role, args->name, args->org, expires);
      if (!created.ok()) return ReportError(options, created.status());
      if (options.json) {
        PrintJson({{"code", created->code()},
                   {"name", created->name()},
                   {"role", args->role},
                   {"expires_at", created->expires_at()},
                   {"log_index", created->log_index()}});
      } else {
        std::cout << created->code() << "\n";
        std::cerr << "one-time invite for " << created->name() << " ("
                  << args->role << "), expires "
                  << absl::FormatTime(
                         "%Y-%m-%d %H:%M:%SZ",
                         absl::FromUnixSeconds(created->expires_at()),
                         absl::UTCTimeZone())
                  << "; give it over a trusted channel\n";
      }
      return kExitOk;
    };
  });

  CLI::App* revoke =
      admin->add_subcommand("revoke", "Revoke a member at once (logged)");
  auto name = std::make_shared<std::string>();
  auto reason = std::make_shared<std::string>();
  revoke->add_option("NAME", *name, "Member to revoke")->required();
  revoke->add_option("--reason", *reason, "Reason (logged)");
  revoke->callback([&options, run, name, reason] {
    *run = [&options, name, reason]() -> int {
      absl::StatusOr<std::unique_ptr<Device>> device = OpenDevice(options);
      if (!device.ok()) return ReportError(options, device.status());
      absl::StatusOr<uint64_t> index = (*device)->Revoke(*name, *reason);
      if (!index.ok()) return ReportError(options, index.status());
      if (options.json) {
        PrintJson({{"revoked", *name}, {"log_index", *index}});
      } else {
        std::cout << "revoked " << *name << " (log index " << *index << ")\n";
      }
      return kExitOk;
    };
  });
}

}  // namespace parley::cli
