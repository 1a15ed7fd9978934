#include <iostream>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "client/cli/cli.h"

namespace parley::cli {
namespace {

nlohmann::json ChannelJson(const v1::ChannelInfo& c) {
  return {{"name", c.name()},
          {"members", std::vector<std::string>(c.members().begin(),
                                               c.members().end())},
          {"created_by", c.created_by()},
          {"log_index", c.log_index()},
          {"next_sequence", c.next_sequence()}};
}

void PrintChannel(const v1::ChannelInfo& c) {
  std::cout << c.name() << "  members: "
            << absl::StrJoin(c.members().begin(), c.members().end(), ", ")
            << "  (created by " << c.created_by() << ", log index "
            << c.log_index() << ")\n";
}

}  // namespace

void AddChannelCommand(CLI::App& app, GlobalOptions& options, Handler* run) {
  CLI::App* channel = app.add_subcommand("channel", "Backchannels");
  channel->require_subcommand(1);

  CLI::App* create =
      channel->add_subcommand("create", "Create a channel (mediators)");
  auto name = std::make_shared<std::string>();
  auto members = std::make_shared<std::string>();
  create->add_option("NAME", *name, "Channel name")->required();
  create->add_option("--members", *members,
                     "Comma-separated member names; you are always one")
      ->required();
  create->callback([&options, run, name, members] {
    *run = [&options, name, members]() -> int {
      std::vector<std::string> list;
      for (absl::string_view m :
           absl::StrSplit(*members, ',', absl::SkipWhitespace())) {
        list.emplace_back(m);
      }
      absl::StatusOr<std::unique_ptr<Device>> device = OpenDevice(options);
      if (!device.ok()) return ReportError(options, device.status());
      absl::StatusOr<v1::ChannelInfo> info =
          (*device)->CreateChannel(*name, list);
      if (!info.ok()) return ReportError(options, info.status());
      if (options.json) {
        PrintJson(ChannelJson(*info));
      } else {
        PrintChannel(*info);
      }
      return kExitOk;
    };
  });

  CLI::App* list = channel->add_subcommand("list", "Channels you belong to");
  list->callback([&options, run] {
    *run = [&options]() -> int {
      absl::StatusOr<std::unique_ptr<Device>> device = OpenDevice(options);
      if (!device.ok()) return ReportError(options, device.status());
      absl::StatusOr<std::vector<v1::ChannelInfo>> channels =
          (*device)->ListChannels();
      if (!channels.ok()) return ReportError(options, channels.status());
      if (options.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const v1::ChannelInfo& c : *channels) out.push_back(ChannelJson(c));
        PrintJson({{"channels", out}});
      } else {
        if (channels->empty()) std::cout << "no channels\n";
        for (const v1::ChannelInfo& c : *channels) PrintChannel(c);
      }
      return kExitOk;
    };
  });
}

}  // namespace parley::cli
