// `parley proof export` end to end with real parleyd and parley processes:
// entries are proven in parallel and join the verified-entry cache
// (entries.bin), and a bundle built while the cache is cold is byte for
// byte the bundle built while it is warm, for the issuer and for a party's
// own view.

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/deconfliction/notification_content.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/testing/parley_processes.h"
#include "tests/testing/subprocess.h"

namespace parley {
namespace {

using ::parley::testing::Slurp;
using ::parley::testing::Rfc3339;
using ::parley::testing::ParleyCli;
using ::parley::testing::ParleyPath;
using ::parley::testing::ProcessResult;
using ::parley::testing::RunProcess;
using ::parley::testing::TempDir;
using Json = nlohmann::json;
using Server = ::parley::testing::ParleydProcess;

class ProofExportTest : public ::parley::testing::EnrolledServerTest {
 protected:
  // Exports `id` as `who` into FILE and returns the bundle's bytes; the
  // bundle must verify offline.
  std::string Export(const std::string& who, const std::string& id,
                     const std::string& file) {
    Json out = cli_.RunOk(who, {"proof", "export", id, "--out", file});
    EXPECT_GT(out["entries"].get<size_t>(), 0u) << out;
    ProcessResult verified =
        RunProcess({ParleyPath(), "--json", "proof", "verify", file});
    EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
    return Slurp(file);
  }
};

TEST_F(ProofExportTest, BundleIsTheSameWhetherEntriesComeFromTheCacheOrNot) {
  const absl::Time t = absl::Now() + absl::Hours(72);
  const std::string route = tmp_.Sub("route.geojson");
  std::ofstream(route)
      << R"({"type":"LineString","coordinates":[[36.20,37.10],[36.40,37.20]]})";
  cli_.RunOk("coordinator",
             {"notify", "movement", "--id", "mv-p", "--to", "partya,partyb",
              "--route", route, "--depart", Rfc3339(t), "--arrive",
              Rfc3339(t + absl::Hours(3)), "--vehicles", "1xtruck:soft-skin",
              "--personnel", "2", "--contact", "Ops,+41221234567", "--type",
              "cargo"});
  cli_.RunOk("coordinator", {"notification", "amend", "mv-p", "--cargo",
                             "water"});
  cli_.RunOk("partya", {"inbox"});
  cli_.RunOk("partya", {"ack", "mv-p"});
  cli_.RunOk("partyb", {"inbox"});
  cli_.RunOk("coordinator",
             {"notification", "status", "mv-p", "departed", "--note", "on time"});

  // Cold: nothing about mv-p was verified by these profiles yet.
  const std::string cold = Export("coordinator", "mv-p", tmp_.Sub("cold.json"));
  const std::string party_cold =
      Export("partya", "mv-p", tmp_.Sub("party-cold.json"));
  // `notification show` reads the entries the export proved and cached.
  cli_.RunOk("coordinator", {"notification", "show", "mv-p"});
  cli_.RunOk("partya", {"notification", "show", "mv-p"});
  // Warm: every entry is in the cache and is checked against it.
  const std::string warm = Export("coordinator", "mv-p", tmp_.Sub("warm.json"));
  const std::string party_warm =
      Export("partya", "mv-p", tmp_.Sub("party-warm.json"));
  EXPECT_EQ(cold, warm);
  EXPECT_EQ(party_cold, party_warm);

  // What the bundles hold: the issuer sees both versions, both parties'
  // receipts, partya's acknowledgement and the status; the party only its
  // own view. Both carry the signers' registrations.
  Json issuer = Json::parse(warm);
  Json party = Json::parse(party_warm);
  ASSERT_TRUE(issuer.is_object());
  ASSERT_TRUE(party.is_object());
  auto kinds = [](const Json& bundle) {
    std::multiset<std::string> out;
    for (const Json& e : bundle["entries"]) out.insert(e["kind"].get<std::string>());
    return out;
  };
  const std::multiset<std::string> issuer_kinds = kinds(issuer);
  EXPECT_EQ(issuer_kinds.count("notification"), 2u) << issuer;
  EXPECT_EQ(issuer_kinds.count("notification-ack"), 1u) << issuer;
  EXPECT_EQ(issuer_kinds.count("notification-status"), 1u) << issuer;
  EXPECT_GE(issuer_kinds.count("member-registered"), 3u) << issuer;
  EXPECT_LT(party["entries"].size(), issuer["entries"].size());
}

}  // namespace
}  // namespace parley
