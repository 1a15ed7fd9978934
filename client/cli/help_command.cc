// parley help [TOPIC], parley completion bash.

#include <iostream>
#include <map>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/cli/cli.h"

namespace parley::cli {
namespace {

struct Topic {
  const char* name;
  const char* summary;
  const char* text;
};

constexpr Topic kTopics[] = {
    {"enroll", "join a server with an invite",
     R"(Enrolling a device

  parley enroll --server HOST:PORT --ca-fingerprint SHA256HEX \
                --invite CODE [--name NAME] [--profile P]

The CA fingerprint comes from the server's operator (printed by
`parleyd init`); it pins TLS: a server presenting another CA is refused.
The invite is single use and expires (an expired or used invite is refused:
ask the admin for a new one with `parley admin invite`). You choose a
passphrase; it protects the keystore and, through it, every file of the
profile. Each identity lives in its own profile (--profile, --home,
$PARLEY_HOME; default ~/.local/share/parley/default).
)"},
    {"send", "send, relay and receipts",
     R"(Sending

  parley send CHANNEL --text TEXT | --file PATH
  parley relay INDEX --to CHANNEL --verbatim | --anonymous   (mediators)
  parley receipts INDEX

Every message is sealed to the channel's current members, each key checked
against the log. A member whose verified key changed stops the send until
you verify again (`parley directory`, `parley verify NAME FINGERPRINT`).
When the server cannot be reached the message is queued: see
`parley help offline`.
)"},
    {"offline", "the outbox, queueing and sync",
     R"(Working offline

When the server cannot be reached, `send` and `relay` still seal and sign
the message and keep it in the outbox, print "queued, not yet sent" (with
--json: {"queued": true, "id": ...}) and exit with code 10. Sealing offline
uses the channel members and keys this device saw last while online: run
`parley sync` while connected before going into the field.

  parley sync             send the outbox in order (retrying with backoff),
                          then fetch until caught up
  parley outbox [--json]  what waits, since when, how many attempts, why
  parley outbox resend ID seal a held item again for the current members
  parley outbox drop ID   give up a held item

Every online command and `parley watch` send the outbox first. Each item
keeps its idempotency id, so a retry after a crash or a lost answer is
recognised by the server and logged once. Work the server refuses for good
(older than 7 days, the channel's members changed, you left the channel)
is held with the reason and never dropped silently.

--require-online makes send and relay fail (exit 3) instead of queueing.
)"},
    {"notify", "movement and site notifications",
     R"(Notifications

Coordinators notify parties of movements and static sites; parties
acknowledge receipt or object. Acknowledgement means receipt, never
approval or safety. See `parley notify --help`, `parley ack --help` and
`parley notifications --help`. Like sends, they are queued in the outbox
when the server cannot be reached (`parley help offline`).
)"},
    {"exit-codes", "what each exit code means",
     R"(Exit codes

   0  success
   1  any other error
   2  bad arguments or usage, or input the server could never accept: a
      polygon or route GEOS finds invalid, a message or notification over
      the server's size limit (nothing is queued)
   3  the server cannot be reached or timed out (also `sync` when work is
      still queued, and --require-online)
   4  refused: permission denied, TLS pin mismatch, authentication failed,
      wrong passphrase, a verified member's key changed
   5  verification failed: a signature, proof or checkpoint is wrong (also
      a log entry that inbox, sync or watch received: it is not skipped, see
      PROFILE/rejected/), or a profile file is corrupted or belongs to
      another identity
   6  not found (no such member, message, channel or profile identity)
  10  queued, not yet sent: the work is signed and waits in the outbox
)"},
    {"json", "machine-readable output",
     R"(JSON output

With --json (before or after the command) every command prints exactly one
JSON document on stdout; `watch` prints one JSON document per line. Errors
go to stderr as {"error": {"code": "UNAVAILABLE", "message": "..."}} with
the exit code of `parley help exit-codes`; warnings as {"warning": "..."}.
A queued send prints {"queued": true, "id": ..., "reason": ...} and exits
10. Colour is used only on a terminal, never with $NO_COLOR set or --json.
)"},
};

const Topic* FindTopic(std::string_view name) {
  for (const Topic& t : kTopics) {
    if (name == t.name) return &t;
  }
  return nullptr;
}

// Every command path ("outbox drop") with its options.
void Collect(const CLI::App& app, const std::string& prefix,
             std::map<std::string, std::vector<std::string>>* out) {
  std::vector<std::string> words;
  for (const CLI::App* sub : app.get_subcommands({})) {
    words.push_back(sub->get_name());
    Collect(*sub, prefix.empty() ? sub->get_name()
                                 : absl::StrCat(prefix, " ", sub->get_name()),
            out);
  }
  for (const CLI::Option* opt : app.get_options()) {
    for (const std::string& name : opt->get_lnames()) {
      words.push_back("--" + name);
    }
  }
  (*out)[prefix] = std::move(words);
}

std::string BashCompletion(const CLI::App& app) {
  std::map<std::string, std::vector<std::string>> commands;
  Collect(app, "", &commands);
  std::string cases;
  for (const auto& [path, words] : commands) {
    absl::StrAppend(&cases, "    \"", path, "\") words=\"",
                    absl::StrJoin(words, " "), "\" ;;\n");
  }
  std::string topics;
  for (const Topic& t : kTopics) absl::StrAppend(&topics, t.name, " ");
  return absl::StrCat(
      "# bash completion for parley: generated by `parley completion bash`.\n"
      "# Install: parley completion bash > "
      "~/.local/share/bash-completion/completions/parley\n"
      "_parley() {\n"
      "  local cur=${COMP_WORDS[COMP_CWORD]} path=\"\" w words i\n"
      "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
      "    w=${COMP_WORDS[i]}\n"
      "    [[ $w == -* ]] && continue\n"
      "    case \"${path:+$path }$w\" in\n",
      [&] {
        std::string known;
        for (const auto& [path, words] : commands) {
          if (!path.empty()) absl::StrAppend(&known, "      \"", path, "\"|");
        }
        if (!known.empty()) known.pop_back();
        return known.empty() ? std::string("      \"\"") : known;
      }(),
      ") path=\"${path:+$path }$w\" ;;\n"
      "    esac\n"
      "  done\n"
      "  case \"$path\" in\n",
      "    \"help\") words=\"", topics, "\" ;;\n", cases,
      "    *) words=\"\" ;;\n"
      "  esac\n"
      "  COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
      "}\n"
      "complete -F _parley parley\n");
}

}  // namespace

void AddHelpCommand(CLI::App& app, GlobalOptions& options, Handler* run) {
  CLI::App* help = app.add_subcommand(
      "help", "Help on a topic: enroll, send, offline, notify, exit-codes, "
              "json");
  auto topic = std::make_shared<std::string>();
  help->add_option("TOPIC", *topic, "Topic");
  help->callback([&options, run, topic, &app] {
    *run = [&options, topic, &app]() -> int {
      if (topic->empty()) {
        std::cout << app.help() << "\nTopics (parley help TOPIC):\n";
        for (const Topic& t : kTopics) {
          std::cout << "  " << t.name << std::string(12 - std::string_view(t.name).size(), ' ')
                    << t.summary << "\n";
        }
        return kExitOk;
      }
      const Topic* t = FindTopic(*topic);
      if (t == nullptr) {
        std::vector<std::string> names;
        for (const Topic& x : kTopics) names.push_back(x.name);
        return ReportError(
            options, absl::InvalidArgumentError(absl::StrCat(
                         "no help topic \"", *topic,
                         "\"; topics: ", absl::StrJoin(names, ", "))));
      }
      if (options.json) {
        PrintJson({{"topic", t->name}, {"text", t->text}});
      } else {
        std::cout << t->text;
      }
      return kExitOk;
    };
  });

  CLI::App* completion = app.add_subcommand(
      "completion", "Print a shell completion script (bash)");
  auto shell = std::make_shared<std::string>();
  completion->add_option("SHELL", *shell, "Shell (bash)")->required();
  completion->callback([&options, run, shell, &app] {
    *run = [&options, shell, &app]() -> int {
      if (*shell != "bash") {
        return ReportError(options, absl::InvalidArgumentError(absl::StrCat(
                                        "no completion for \"", *shell,
                                        "\"; only bash is supported")));
      }
      std::cout << BashCompletion(app);
      return kExitOk;
    };
  });
}

}  // namespace parley::cli
