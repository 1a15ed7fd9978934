#include "server/config.h"

#include <fstream>

#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/subprocess.h"

namespace parley {
namespace {

using ::parley::testing::StatusIs;
using ::testing::HasSubstr;

TEST(ServerConfigTest, DefaultsWithoutFileOrFlags) {
  ASSERT_OK_AND_ASSIGN(ServerConfig config, LoadServerConfig("", {}));
  EXPECT_EQ(config.listen, "127.0.0.1:7443");
  EXPECT_EQ(config.data, "./var/parley");
  EXPECT_EQ(config.log_level, "info");
  EXPECT_EQ(config.checkpoint_interval, absl::Seconds(1));
  EXPECT_EQ(config.max_message_bytes, 256u * 1024);
}

TEST(ServerConfigTest, FileOverridesDefaultsAndFlagsOverrideFile) {
  testing::TempDir dir;
  std::string path = dir.Sub("parleyd.toml");
  std::ofstream(path) << R"(
listen = "127.0.0.1:9000"
data = "/srv/parley"
log_level = "debug"
[tls]
server_names = ["parley.example.org", "10.0.0.5"]
[log]
checkpoint_interval_ms = 250
[limits]
max_message_bytes = 65536
[shutdown]
grace_seconds = 3
)";
  ASSERT_OK_AND_ASSIGN(ServerConfig from_file, LoadServerConfig(path, {}));
  EXPECT_EQ(from_file.listen, "127.0.0.1:9000");
  EXPECT_EQ(from_file.data, "/srv/parley");
  EXPECT_EQ(from_file.log_level, "debug");
  EXPECT_EQ(from_file.tls_server_names.size(), 2u);
  EXPECT_EQ(from_file.checkpoint_interval, absl::Milliseconds(250));
  EXPECT_EQ(from_file.max_message_bytes, 65536u);
  EXPECT_EQ(from_file.shutdown_grace, absl::Seconds(3));

  ConfigOverrides flags;
  flags.listen = "[::1]:7000";
  flags.log_level = "warn";
  ASSERT_OK_AND_ASSIGN(ServerConfig merged, LoadServerConfig(path, flags));
  EXPECT_EQ(merged.listen, "[::1]:7000");
  EXPECT_EQ(merged.log_level, "warn");
  EXPECT_EQ(merged.data, "/srv/parley");  // Not overridden: file wins.
}

TEST(ServerConfigTest, MissingFileIsNotFound) {
  EXPECT_THAT(LoadServerConfig("/nonexistent/parleyd.toml", {}),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST(ServerConfigTest, SyntaxErrorNamesLine) {
  ServerConfig config;
  absl::Status s = ParseConfigToml("listen = \"a\"\nlog_level = \n", "x.toml",
                                   &config);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(s.message()), HasSubstr("x.toml:2"));
}

TEST(ServerConfigTest, UnknownKeyIsRefusedByName) {
  ServerConfig config;
  absl::Status s = ParseConfigToml("[log]\ncheckpoint_interval = 5\n",
                                   "x.toml", &config);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(s.message()), HasSubstr("log.checkpoint_interval"));
}

TEST(ServerConfigTest, WrongTypeIsRefusedByName) {
  ServerConfig config;
  absl::Status s = ParseConfigToml("listen = 7443\n", "x.toml", &config);
  EXPECT_THAT(std::string(s.message()), HasSubstr("\"listen\" must be a string"));
}

TEST(ServerConfigTest, OutOfRangeValuesAreRefused) {
  ServerConfig config;
  EXPECT_THAT(ParseConfigToml("[log]\ncheckpoint_interval_ms = 0\n", "x",
                              &config),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseConfigToml("[limits]\nmax_message_bytes = 10\n", "x",
                              &config),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseConfigToml("log_level = \"loud\"\n", "x", &config),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ServerConfigTest, BadListenAddressesAreRefused) {
  EXPECT_OK(ValidateListenAddress("127.0.0.1:0"));
  EXPECT_OK(ValidateListenAddress("[::1]:7443"));
  EXPECT_THAT(ValidateListenAddress("localhost"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateListenAddress("127.0.0.1:99999"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  ConfigOverrides flags;
  flags.listen = "nope";
  EXPECT_THAT(LoadServerConfig("", flags),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ServerConfigTest, ExampleDeployConfigParses) {
  ASSERT_OK_AND_ASSIGN(
      ServerConfig config,
      LoadServerConfig(std::string(PARLEY_SOURCE_DIR) + "/deploy/parleyd.toml",
                       {}));
  EXPECT_FALSE(config.data.empty());
}

}  // namespace
}  // namespace parley
