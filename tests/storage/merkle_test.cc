#include "storage/tlog/merkle.h"

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "crypto/encoding.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/testing/paths.h"
#include "tests/testing/status_matchers.h"

namespace parley {
namespace {

namespace fs = std::filesystem;
using ::nlohmann::json;
using ::parley::testing::StatusIs;

const fs::path kVectors =
    fs::path(::parley::testing::SourceDir()) / "tests/vectors/merkle";

json ReadJson(const fs::path& path) {
  std::ifstream in(path);
  return json::parse(in);
}

std::string B64(const json& v) {
  if (v.is_null()) return "";
  absl::StatusOr<std::string> out = Base64Decode(v.get<std::string>());
  EXPECT_TRUE(out.ok()) << out.status();
  return out.ok() ? *out : "";
}

std::vector<std::string> HashList(const json& v) {
  std::vector<std::string> out;
  if (v.is_null()) return out;
  for (const json& h : v) out.push_back(B64(h));
  return out;
}

std::vector<fs::path> VectorFiles(const std::string& kind) {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(kVectors / kind)) {
    if (e.is_regular_file() && e.path().extension() == ".json") {
      out.push_back(e.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string Hex(std::string_view hex) { return *HexDecode(hex); }

// The eight leaves of roots.json.
std::vector<std::string> ReferenceLeaves() {
  json roots = ReadJson(kVectors / "roots.json");
  std::vector<std::string> leaves;
  for (const json& l : roots["leaves_hex"]) {
    leaves.push_back(Hex(l.get<std::string>()));
  }
  return leaves;
}

// Perfect-subtree reader over an in-memory list of leaf hashes.
class MemoryTree {
 public:
  explicit MemoryTree(std::vector<std::string> leaf_hashes) {
    levels_.push_back(std::move(leaf_hashes));
    while (levels_.back().size() > 1) {
      const std::vector<std::string>& below = levels_.back();
      std::vector<std::string> up;
      for (size_t i = 0; i + 1 < below.size(); i += 2) {
        up.push_back(NodeHash(below[i], below[i + 1]));
      }
      levels_.push_back(std::move(up));
    }
  }
  absl::StatusOr<std::string> Read(int level, uint64_t index) const {
    if (level >= static_cast<int>(levels_.size()) ||
        index >= levels_[level].size()) {
      return absl::NotFoundError("no such node");
    }
    return levels_[level][index];
  }
  const std::string& leaf(uint64_t i) const { return levels_[0][i]; }

 private:
  std::vector<std::vector<std::string>> levels_;
};

TEST(MerkleVectorsTest, InclusionVectors) {
  std::vector<fs::path> files = VectorFiles("inclusion");
  ASSERT_GT(files.size(), 50u);
  for (const fs::path& f : files) {
    SCOPED_TRACE(f.string());
    json v = ReadJson(f);
    absl::Status s = VerifyInclusion(
        v["leafIdx"].get<uint64_t>(), v["treeSize"].get<uint64_t>(),
        B64(v["leafHash"]), HashList(v["proof"]), B64(v["root"]));
    if (v["wantErr"].get<bool>()) {
      EXPECT_FALSE(s.ok()) << v["desc"];
    } else {
      EXPECT_OK(s) << v["desc"];
    }
  }
}

TEST(MerkleVectorsTest, ConsistencyVectors) {
  std::vector<fs::path> files = VectorFiles("consistency");
  ASSERT_GT(files.size(), 50u);
  for (const fs::path& f : files) {
    SCOPED_TRACE(f.string());
    json v = ReadJson(f);
    absl::Status s = VerifyConsistency(
        v["size1"].get<uint64_t>(), v["size2"].get<uint64_t>(),
        B64(v["root1"]), B64(v["root2"]), HashList(v["proof"]));
    if (v["wantErr"].get<bool>()) {
      EXPECT_FALSE(s.ok()) << v["desc"];
    } else {
      EXPECT_OK(s) << v["desc"];
    }
  }
}

TEST(MerkleVectorsTest, ReferenceRoots) {
  json roots = ReadJson(kVectors / "roots.json");
  std::vector<std::string> leaves = ReferenceLeaves();
  ASSERT_EQ(roots["roots_by_size"].size(), leaves.size() + 1);
  for (const auto& [size_text, root] : roots["roots_by_size"].items()) {
    size_t n = std::stoul(size_text);
    std::vector<std::string> prefix(leaves.begin(), leaves.begin() + n);
    EXPECT_EQ(Base64Encode(RootFromLeaves(prefix)), root.get<std::string>())
        << "size " << n;
    std::vector<std::string> hashes;
    for (const std::string& l : prefix) hashes.push_back(LeafHash(l));
    MemoryTree tree(hashes);
    absl::StatusOr<std::string> from_subtrees = RootHashFromSubtrees(
        n, [&](int level, uint64_t i) { return tree.Read(level, i); });
    ASSERT_OK(from_subtrees);
    EXPECT_EQ(Base64Encode(*from_subtrees), root.get<std::string>());
  }
}

// Our builders reproduce, hash for hash, every happy-path proof in the
// vectors (all are over the roots.json leaves).
TEST(MerkleVectorsTest, BuildersReproduceHappyPathProofs) {
  std::vector<std::string> leaves = ReferenceLeaves();
  std::vector<std::string> hashes;
  for (const std::string& l : leaves) hashes.push_back(LeafHash(l));
  MemoryTree tree(hashes);
  auto read = [&](int level, uint64_t i) { return tree.Read(level, i); };
  int checked = 0;
  for (const fs::path& f : VectorFiles("inclusion")) {
    json v = ReadJson(f);
    if (v["wantErr"].get<bool>() || v["treeSize"].get<uint64_t>() > 8 ||
        f.filename() != "happy-path.json") {
      continue;
    }
    absl::StatusOr<std::vector<std::string>> proof = BuildInclusionProof(
        v["leafIdx"].get<uint64_t>(), v["treeSize"].get<uint64_t>(), read);
    ASSERT_OK(proof);
    EXPECT_EQ(*proof, HashList(v["proof"])) << f;
    ++checked;
  }
  for (const fs::path& f : VectorFiles("consistency")) {
    json v = ReadJson(f);
    if (v["wantErr"].get<bool>() || v["size2"].get<uint64_t>() > 8 ||
        f.filename() != "happy-path.json") {
      continue;
    }
    absl::StatusOr<std::vector<std::string>> proof = BuildConsistencyProof(
        v["size1"].get<uint64_t>(), v["size2"].get<uint64_t>(), read);
    ASSERT_OK(proof);
    EXPECT_EQ(*proof, HashList(v["proof"])) << f;
    ++checked;
  }
  EXPECT_GE(checked, 6);
}

TEST(MerkleTest, RangeHashMatchesRootForEverySmallSize) {
  std::vector<std::string> hashes;
  for (int i = 0; i < 300; ++i) hashes.push_back(LeafHash(std::to_string(i)));
  MemoryTree tree(hashes);
  for (size_t n = 0; n <= hashes.size(); ++n) {
    std::vector<std::string> prefix(hashes.begin(), hashes.begin() + n);
    absl::StatusOr<std::string> root = RootHashFromSubtrees(
        n, [&](int level, uint64_t i) { return tree.Read(level, i); });
    ASSERT_OK(root);
    ASSERT_EQ(*root, RootFromLeafHashes(prefix)) << "size " << n;
  }
}

TEST(MerkleTest, FrontierRootAndCompletedNodesMatchTheTree) {
  std::vector<std::string> hashes;
  for (int i = 0; i < 300; ++i) hashes.push_back(LeafHash(std::to_string(i)));
  MerkleFrontier frontier;
  EXPECT_EQ(frontier.Root(), EmptyRootHash());
  size_t nodes = 0;
  for (size_t n = 0; n < hashes.size(); ++n) {
    ASSERT_OK(frontier.Append(
        n, hashes[n],
        [&](int level, uint64_t index, const std::string& hash) {
          // Each completed subtree is the perfect subtree (level, index),
          // and it ends at the leaf just added.
          EXPECT_EQ((index + 1) << level, n + 1);
          EXPECT_EQ(hash, RangeHash(index << level, (index + 1) << level,
                                    [&](int l, uint64_t i) {
                                      return absl::StatusOr<std::string>(
                                          RootFromLeafHashes(std::vector<
                                              std::string>(
                                              hashes.begin() + (i << l),
                                              hashes.begin() + ((i + 1) << l))));
                                    })
                              .value());
          ++nodes;
          return absl::OkStatus();
        }));
    std::vector<std::string> prefix(hashes.begin(), hashes.begin() + n + 1);
    ASSERT_EQ(frontier.Root(), RootFromLeafHashes(prefix)) << "size " << n + 1;
    // Rebuilt from FrontierSubtrees, as the log does at start, it agrees.
    std::vector<MerkleFrontier::Subtree> stored;
    for (auto [level, index] : FrontierSubtrees(n + 1)) {
      stored.push_back({level, RootFromLeafHashes(std::vector<std::string>(
                                   hashes.begin() + (index << level),
                                   hashes.begin() + ((index + 1) << level)))});
    }
    EXPECT_EQ(MerkleFrontier(stored).Root(), frontier.Root());
  }
  // A tree of n leaves has n - 1 inner nodes; 300 leaves complete 300 minus
  // popcount(300) of them (the rest wait for more leaves).
  EXPECT_EQ(nodes, 300u - 4u);
  // An error from the callback stops the append and is returned.
  MerkleFrontier failing;
  ASSERT_OK(failing.Append(0, hashes[0], [](int, uint64_t, const std::string&) {
    return absl::OkStatus();
  }));
  EXPECT_THAT(failing.Append(1, hashes[1],
                             [](int, uint64_t, const std::string&) {
                               return absl::DataLossError("node differs");
                             }),
              StatusIs(absl::StatusCode::kDataLoss));
}

TEST(MerkleTest, RootFromLeafRangeMatchesTheRootForEveryRangeOfSmallTrees) {
  std::vector<std::string> hashes;
  for (int i = 0; i < 40; ++i) hashes.push_back(LeafHash(std::to_string(i)));
  MemoryTree tree(hashes);
  for (uint64_t size = 1; size <= hashes.size(); ++size) {
    const std::string root = RootFromLeafHashes(
        std::vector<std::string>(hashes.begin(), hashes.begin() + size));
    for (uint64_t begin = 0; begin < size; ++begin) {
      for (uint64_t end = begin + 1; end <= size; ++end) {
        std::vector<std::string> range(hashes.begin() + begin,
                                       hashes.begin() + end);
        absl::StatusOr<std::string> got = RootFromLeafRange(
            size, begin, range,
            [&](int level, uint64_t i) { return tree.Read(level, i); });
        ASSERT_OK(got);
        ASSERT_EQ(*got, root) << size << " [" << begin << ", " << end << ")";
        // Any altered leaf in the range changes the root.
        range[(end - begin) / 2] = LeafHash("forged");
        got = RootFromLeafRange(
            size, begin, range,
            [&](int level, uint64_t i) { return tree.Read(level, i); });
        ASSERT_OK(got);
        ASSERT_NE(*got, root);
      }
    }
  }
}

TEST(MerkleTest, RootFromLeafRangeReadsLogarithmicallyManyNodes) {
  std::vector<std::string> hashes;
  for (int i = 0; i < 5000; ++i) hashes.push_back(LeafHash(std::to_string(i)));
  MemoryTree tree(hashes);
  const std::string root = RootFromLeafHashes(hashes);
  int reads = 0;
  std::vector<std::string> range(hashes.begin() + 1234, hashes.begin() + 3333);
  absl::StatusOr<std::string> got = RootFromLeafRange(
      hashes.size(), 1234, range, [&](int level, uint64_t i) {
        ++reads;
        return tree.Read(level, i);
      });
  ASSERT_OK(got);
  EXPECT_EQ(*got, root);
  EXPECT_LE(reads, 3 * 13);  // log2(5000) < 13: one per level per edge.
  EXPECT_THAT(RootFromLeafRange(10, 8, {hashes[8], hashes[9], hashes[10]},
                                [&](int level, uint64_t i) {
                                  return tree.Read(level, i);
                                }),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

std::string Mutate(std::string h, size_t bit) {
  h[(bit / 8) % h.size()] ^= static_cast<char>(1 << (bit % 8));
  return h;
}

// Random sizes up to 10^4: every inclusion proof verifies and a mutated one
// does not; a sample of consistency proofs likewise.
TEST(MerkleTest, RandomTreesAllProofsVerifyAndMutationsFail) {
  std::mt19937_64 rng(20261122);
  std::vector<std::string> all;
  for (int i = 0; i < 10000; ++i) all.push_back(LeafHash("leaf " + std::to_string(i)));
  MemoryTree tree(all);
  auto read = [&](int level, uint64_t i) { return tree.Read(level, i); };
  std::vector<uint64_t> sizes = {1, 2, 3, 7, 8, 9, 10000};
  for (int i = 0; i < 5; ++i) sizes.push_back(1 + rng() % 10000);
  for (uint64_t size : sizes) {
    SCOPED_TRACE(size);
    std::string root = RootFromLeafHashes(
        std::vector<std::string>(all.begin(), all.begin() + size));
    for (uint64_t index = 0; index < size; ++index) {
      absl::StatusOr<std::vector<std::string>> proof =
          BuildInclusionProof(index, size, read);
      ASSERT_OK(proof);
      ASSERT_OK(VerifyInclusion(index, size, all[index], *proof, root));
      if (index % 97 == 0) {
        EXPECT_FALSE(VerifyInclusion(index, size, Mutate(all[index], index),
                                     *proof, root).ok());
        if (!proof->empty()) {
          std::vector<std::string> bad = *proof;
          size_t k = rng() % bad.size();
          bad[k] = Mutate(bad[k], rng());
          EXPECT_FALSE(VerifyInclusion(index, size, all[index], bad, root).ok());
          bad = *proof;
          bad.pop_back();
          EXPECT_FALSE(VerifyInclusion(index, size, all[index], bad, root).ok());
        }
        if (size > 1) {
          EXPECT_FALSE(VerifyInclusion((index + 1) % size, size, all[index],
                                       *proof, root).ok());
        }
      }
    }
    for (int k = 0; k < 200; ++k) {
      uint64_t size1 = 1 + rng() % size;
      std::string root1 = RootFromLeafHashes(
          std::vector<std::string>(all.begin(), all.begin() + size1));
      absl::StatusOr<std::vector<std::string>> proof =
          BuildConsistencyProof(size1, size, read);
      ASSERT_OK(proof);
      ASSERT_OK(VerifyConsistency(size1, size, root1, root, *proof))
          << size1 << " -> " << size;
      if (!proof->empty()) {
        std::vector<std::string> bad = *proof;
        size_t j = rng() % bad.size();
        bad[j] = Mutate(bad[j], rng());
        EXPECT_FALSE(VerifyConsistency(size1, size, root1, root, bad).ok());
      }
      EXPECT_FALSE(
          VerifyConsistency(size1, size, Mutate(root1, k), root, *proof).ok());
    }
  }
}

}  // namespace
}  // namespace parley
