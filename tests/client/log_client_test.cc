#include "client/core/log_client.h"

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "storage/tlog/merkle.h"
#include "tests/testing/status_matchers.h"

namespace parley {
namespace {

// The audit's root from (inclusion proof of `from`, leaves from `from` on)
// equals the root of the whole tree, for every split of many sizes.
TEST(RootFromPrefixProofAndLeavesTest, MatchesTheWholeTreeForEverySplit) {
  for (uint64_t size = 1; size <= 40; ++size) {
    std::vector<std::string> leaves;
    for (uint64_t i = 0; i < size; ++i) {
      leaves.push_back(LeafHash(absl::StrCat("entry ", i)));
    }
    const std::string root = RootFromLeafHashes(leaves);
    auto read = [&](int level, uint64_t index) -> absl::StatusOr<std::string> {
      uint64_t begin = index << level, end = (index + 1) << level;
      return RootFromLeafHashes(std::vector<std::string>(
          leaves.begin() + begin, leaves.begin() + end));
    };
    for (uint64_t from = 0; from < size; ++from) {
      ASSERT_OK_AND_ASSIGN(std::vector<std::string> proof,
                           BuildInclusionProof(from, size, read));
      ASSERT_OK_AND_ASSIGN(
          std::string computed,
          RootFromPrefixProofAndLeaves(
              from, size, proof,
              std::vector<std::string>(leaves.begin() + from, leaves.end())));
      EXPECT_EQ(computed, root) << "size " << size << " from " << from;
      // A changed leaf after `from` changes the root.
      std::vector<std::string> bad(leaves.begin() + from, leaves.end());
      bad.back()[0] ^= 1;
      ASSERT_OK_AND_ASSIGN(std::string wrong, RootFromPrefixProofAndLeaves(
                                                  from, size, proof, bad));
      EXPECT_NE(wrong, root);
    }
  }
}

TEST(RootFromPrefixProofAndLeavesTest, FromZeroNeedsNoProof) {
  std::vector<std::string> leaves;
  for (int i = 0; i < 7; ++i) leaves.push_back(LeafHash(absl::StrCat(i)));
  ASSERT_OK_AND_ASSIGN(std::string root,
                       RootFromPrefixProofAndLeaves(0, 7, {}, leaves));
  EXPECT_EQ(root, RootFromLeafHashes(leaves));
}

TEST(RootFromPrefixProofAndLeavesTest, RejectsBadRanges) {
  EXPECT_FALSE(RootFromPrefixProofAndLeaves(5, 5, {}, {}).ok());
  EXPECT_FALSE(RootFromPrefixProofAndLeaves(0, 2, {}, {"x"}).ok());
}

}  // namespace
}  // namespace parley
