// parley log checkpoint | proof | consistency | verify | audit

#include <iostream>

#include "absl/strings/str_cat.h"
#include "client/cli/cli.h"
#include "client/cli/progress_bar.h"
#include "client/core/log_client.h"
#include "crypto/encoding.h"

namespace parley::cli {
namespace {

struct LogOptions {
  std::string verifier_key;
  bool fresh = false;
  uint64_t index = 0;
  uint64_t size = 0;
  uint64_t from = 0;
  uint64_t to = 0;
};

nlohmann::json HashList(const std::vector<std::string>& hashes) {
  nlohmann::json out = nlohmann::json::array();
  for (const std::string& h : hashes) out.push_back(Base64Encode(h));
  return out;
}

// Runs `body` with a LogClient on a plain session (public calls).
int WithPublicLog(const GlobalOptions& options,
                  const std::function<int(LogClient&, Profile&)>& body) {
  absl::StatusOr<Profile> profile = OpenProfile(options);
  if (!profile.ok()) return ReportError(options, profile.status());
  absl::StatusOr<std::unique_ptr<Session>> session = OpenSession(options);
  if (!session.ok()) return ReportError(options, session.status());
  LogClient log(**session, nullptr, *profile);
  return body(log, *profile);
}

// Runs `body` with a LogClient authenticated as the profile's device.
int WithDeviceLog(const GlobalOptions& options,
                  const std::function<int(LogClient&, Profile&)>& body) {
  absl::StatusOr<Profile> profile = OpenProfile(options);
  if (!profile.ok()) return ReportError(options, profile.status());
  absl::StatusOr<std::unique_ptr<Device>> device = OpenDevice(options);
  if (!device.ok()) return ReportError(options, device.status());
  LogClient log((*device)->session(), &(*device)->auth(), *profile);
  return body(log, *profile);
}

}  // namespace

void AddLogCommand(CLI::App& app, GlobalOptions& options, Handler* run) {
  auto* log = app.add_subcommand(
      "log", "Check the server's append-only log: checkpoints, proofs, audit");
  log->require_subcommand(1);
  auto opts = std::make_shared<LogOptions>();
  auto add_key = [&](CLI::App* cmd) {
    cmd->add_option("--verifier-key", opts->verifier_key,
                    "Pin the log's C2SP verifier key instead of trusting the "
                    "server's on first use");
  };

  CLI::App* checkpoint =
      log->add_subcommand("checkpoint", "Show the latest signed checkpoint");
  add_key(checkpoint);
  checkpoint->add_flag("--fresh", opts->fresh,
                       "Ask the server to sign one covering every entry now");
  checkpoint->callback([&options, run, opts] {
    *run = [&options, opts] {
      return WithPublicLog(options, [&](LogClient& log, Profile&) -> int {
        absl::StatusOr<NoteVerifier> verifier =
            log.TrustedVerifier(opts->verifier_key);
        if (!verifier.ok()) return ReportError(options, verifier.status());
        absl::StatusOr<SignedCheckpoint> cp =
            log.Checkpoint(*verifier, opts->fresh);
        if (!cp.ok()) return ReportError(options, cp.status());
        std::string key =
            FormatVerifierKey(verifier->name, verifier->public_key).value_or("");
        if (options.json) {
          PrintJson({{"origin", cp->origin},
                     {"size", cp->size},
                     {"root_hash", Base64Encode(cp->root_hash)},
                     {"note", cp->note},
                     {"verifier_key", key}});
        } else {
          std::cout << "origin        " << cp->origin << "\n"
                    << "size          " << cp->size << "\n"
                    << "root hash     " << Base64Encode(cp->root_hash) << "\n"
                    << "verifier key  " << key << "\n"
                    << "signature     verified\n\n"
                    << cp->note;
        }
        return kExitOk;
      });
    };
  });

  CLI::App* proof = log->add_subcommand(
      "proof", "Inclusion proof of one entry, verified against a checkpoint");
  add_key(proof);
  proof->add_option("--index", opts->index, "Entry index")->required();
  proof->add_option("--size", opts->size,
                    "Tree size (default: the latest checkpoint)");
  proof->callback([&options, run, opts] {
    *run = [&options, opts] {
      return WithDeviceLog(options, [&](LogClient& log, Profile&) -> int {
        absl::StatusOr<NoteVerifier> verifier =
            log.TrustedVerifier(opts->verifier_key);
        if (!verifier.ok()) return ReportError(options, verifier.status());
        absl::StatusOr<VerifiedInclusion> p =
            log.Inclusion(*verifier, opts->index, opts->size);
        if (!p.ok()) return ReportError(options, p.status());
        if (options.json) {
          PrintJson({{"index", p->index},
                     {"size", p->size},
                     {"leaf", Base64Encode(p->leaf)},
                     {"leaf_hash", Base64Encode(p->leaf_hash)},
                     {"withheld", p->leaf.empty()},
                     {"proof", HashList(p->proof)},
                     {"tlog_proof", p->tlog_proof}});
        } else {
          std::cout << "entry " << p->index << " is in the tree of size "
                    << p->size << " (proof of " << p->proof.size()
                    << " hashes verified)\n";
          if (p->leaf.empty()) {
            std::cout << "its bytes are withheld from you: it neither "
                         "concerns you nor is part of the directory\n";
          }
          std::cout << "\n" << p->tlog_proof;
        }
        return kExitOk;
      });
    };
  });

  CLI::App* consistency = log->add_subcommand(
      "consistency", "Consistency proof between two tree sizes, verified");
  add_key(consistency);
  consistency->add_option("--from", opts->from, "Smaller tree size")
      ->required();
  consistency->add_option("--to", opts->to,
                          "Larger tree size (default: latest checkpoint)");
  consistency->callback([&options, run, opts] {
    *run = [&options, opts] {
      return WithPublicLog(options, [&](LogClient& log, Profile&) -> int {
        absl::StatusOr<NoteVerifier> verifier =
            log.TrustedVerifier(opts->verifier_key);
        if (!verifier.ok()) return ReportError(options, verifier.status());
        absl::StatusOr<SignedCheckpoint> latest = log.Checkpoint(*verifier);
        if (!latest.ok()) return ReportError(options, latest.status());
        uint64_t to = opts->to == 0 ? latest->size : opts->to;
        absl::StatusOr<VerifiedConsistency> c =
            log.Consistency(opts->from, to);
        if (!c.ok()) return ReportError(options, c.status());
        if (to == latest->size && c->root2 != latest->root_hash) {
          return ReportError(options,
                             absl::DataLossError(
                                 "the proof's second root is not the signed "
                                 "checkpoint's root"));
        }
        if (options.json) {
          PrintJson({{"size1", c->size1},
                     {"size2", c->size2},
                     {"root1", Base64Encode(c->root1)},
                     {"root2", Base64Encode(c->root2)},
                     {"proof", HashList(c->proof)}});
        } else {
          std::cout << "tree of size " << c->size1 << " (root "
                    << Base64Encode(c->root1) << ") is a prefix of size "
                    << c->size2 << " (root " << Base64Encode(c->root2)
                    << "): proof of " << c->proof.size()
                    << " hashes verified\n";
        }
        return kExitOk;
      });
    };
  });

  CLI::App* verify = log->add_subcommand(
      "verify",
      "Verify the current checkpoint and its consistency with the last one "
      "this profile trusted, then trust it");
  add_key(verify);
  verify->callback([&options, run, opts] {
    *run = [&options, opts] {
      return WithPublicLog(options, [&](LogClient& log, Profile&) -> int {
        absl::StatusOr<LogVerifyResult> r =
            log.VerifyAndAdvance(opts->verifier_key);
        if (!r.ok()) return ReportError(options, r.status());
        if (options.json) {
          PrintJson({{"verified", true},
                     {"first_use", r->first_use},
                     {"previous_size", r->previous.size},
                     {"size", r->current.size},
                     {"root_hash", Base64Encode(r->current.root_hash)}});
        } else if (r->first_use) {
          std::cout << "checkpoint of size " << r->current.size
                    << " verified and trusted (first use: compare the "
                       "verifier key with one published out of band)\n";
        } else {
          std::cout << "checkpoint of size " << r->current.size
                    << " verified, consistent with the trusted one of size "
                    << r->previous.size << "; now trusted\n";
        }
        return kExitOk;
      });
    };
  });

  CLI::App* audit = log->add_subcommand(
      "audit",
      "Download entries, recompute every leaf hash and the root, and compare "
      "with the signed checkpoint");
  add_key(audit);
  audit->add_option("--from", opts->from, "First index to download");
  audit->callback([&options, run, opts] {
    *run = [&options, opts] {
      return WithDeviceLog(options, [&](LogClient& log, Profile&) -> int {
        absl::StatusOr<NoteVerifier> verifier =
            log.TrustedVerifier(opts->verifier_key);
        if (!verifier.ok()) return ReportError(options, verifier.status());
        ProgressBar bar("entries");
        absl::StatusOr<SignedCheckpoint> cp = log.Audit(
            *verifier, opts->from,
            [&bar](uint64_t done, uint64_t total) { bar.Update(done, total); });
        bar.Finish();
        if (!cp.ok()) return ReportError(options, cp.status());
        if (options.json) {
          PrintJson({{"audited", true},
                     {"from", opts->from},
                     {"size", cp->size},
                     {"root_hash", Base64Encode(cp->root_hash)}});
        } else {
          std::cout << "audit passed: entries " << opts->from << ".."
                    << (cp->size == 0 ? 0 : cp->size - 1)
                    << " recomputed to the signed root of size " << cp->size
                    << "\n";
        }
        return kExitOk;
      });
    };
  });
}

}  // namespace parley::cli
