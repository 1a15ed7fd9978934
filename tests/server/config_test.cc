#include "server/config.h"

#include <fstream>

#include "gtest/gtest.h"
#include "tests/testing/paths.h"
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
      LoadServerConfig(::parley::testing::SourceDir() + "/deploy/parleyd.toml",
                       {}));
  EXPECT_FALSE(config.data.empty());
}

// deploy/parleyd.toml says each key is set to its default: the limits
// against hostile load (issue #17) are, so the file documents what runs.
TEST(ServerConfigTest, ExampleDeployConfigHoldsTheDefaultLimits) {
  ASSERT_OK_AND_ASSIGN(
      ServerConfig config,
      LoadServerConfig(::parley::testing::SourceDir() + "/deploy/parleyd.toml",
                       {}));
  const ServerConfig defaults;
  const LimitOptions& l = config.limits;
  const LimitOptions& d = defaults.limits;
  EXPECT_EQ(l.address_requests_per_second, d.address_requests_per_second);
  EXPECT_EQ(l.address_burst, d.address_burst);
  EXPECT_EQ(l.public_requests_per_second, d.public_requests_per_second);
  EXPECT_EQ(l.max_watch_streams_per_address, d.max_watch_streams_per_address);
  EXPECT_EQ(l.max_watch_streams, d.max_watch_streams);
  EXPECT_EQ(l.enrollments_per_minute_per_address,
            d.enrollments_per_minute_per_address);
  EXPECT_EQ(l.enrollment_attempts_per_invite_per_hour,
            d.enrollment_attempts_per_invite_per_hour);
  EXPECT_EQ(l.max_pending_challenges_per_identity,
            d.max_pending_challenges_per_identity);
  EXPECT_EQ(config.min_free_disk_bytes, defaults.min_free_disk_bytes);
  EXPECT_EQ(l.refusal_delay, d.refusal_delay);
}

TEST(ServerConfigTest, HostileLoadLimitsParseAndAreRangeChecked) {
  ServerConfig config;
  ASSERT_OK(ParseConfigToml("[limits]\naddress_requests_per_second = 7\n"
                            "address_burst = 9\nmax_watch_streams = 3\n"
                            "min_free_disk_mb = 0\n",
                            "test.toml", &config));
  EXPECT_EQ(config.limits.address_requests_per_second, 7);
  EXPECT_EQ(config.limits.address_burst, 9);
  EXPECT_EQ(config.limits.max_watch_streams, 3);
  EXPECT_EQ(config.min_free_disk_bytes, 0u);
  absl::Status s = ParseConfigToml(
      "[limits]\nmax_pending_challenges_per_identity = 1\n", "test.toml",
      &config);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(s.message()),
              ::testing::HasSubstr("max_pending_challenges_per_identity"));
}

}  // namespace
}  // namespace parley
