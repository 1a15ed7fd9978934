// Fuzzes VerifyInclusion, RootFromInclusionProof and VerifyConsistency:
// the RFC 9162 proofs a client or auditor gets from the log, which may lie.
//
// The first input byte selects a mode; the rest is its argument:
//   0  inclusion: the next bytes pick a tree size (1 to 64) and a leaf of a
//      fixed log; the correct proof (BuildInclusionProof) must verify, and
//      a proof or index changed by the remaining bytes (see Tamper) must not.
//   1  consistency: likewise for two sizes and BuildConsistencyProof.
//   2  raw: index, sizes, roots and proof hashes straight from the input;
//      no crash, and a RootFromInclusionProof result agrees with
//      VerifyInclusion.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/tlog/merkle.h"
#include "tests/fuzz/fuzz_util.h"

namespace parley {
namespace {

constexpr uint64_t kMaxLeaves = 64;

// Every perfect subtree hash of a 64-leaf log: subtrees[level][index].
struct Fixture {
  Fixture() {
    subtrees.emplace_back();
    for (uint64_t i = 0; i < kMaxLeaves; ++i) {
      leaves.push_back("leaf " + std::to_string(i));
      subtrees[0].push_back(LeafHash(leaves.back()));
    }
    while (subtrees.back().size() > 1) {
      const std::vector<std::string>& below = subtrees.back();
      std::vector<std::string> level;
      for (size_t i = 0; i + 1 < below.size(); i += 2) {
        level.push_back(NodeHash(below[i], below[i + 1]));
      }
      subtrees.push_back(std::move(level));
    }
  }

  absl::StatusOr<std::string> Read(int level, uint64_t index) const {
    return subtrees.at(static_cast<size_t>(level)).at(index);
  }
  std::string Root(uint64_t size) const {
    return *RootHashFromSubtrees(
        size, [this](int l, uint64_t i) { return Read(l, i); });
  }

  std::vector<std::string> leaves;
  std::vector<std::vector<std::string>> subtrees;
};

const Fixture& GetFixture() {
  static const Fixture* fixture = new Fixture();
  return *fixture;
}

// Consumes one byte of `in` (0 when empty).
uint8_t Take(std::string_view& in) {
  if (in.empty()) return 0;
  const uint8_t b = static_cast<uint8_t>(in[0]);
  in.remove_prefix(1);
  return b;
}

// Applies up to 16 three-byte edits {op, which, value} to `proof` (and, for
// op 4, `*index`): op % 5 is 0 xor `value` into byte `value % 32` of hash
// `which`, 1 erase hash `which`, 2 duplicate it, 3 swap it with the next,
// 4 xor `value` into *index.
void Tamper(std::string_view edits, std::vector<std::string>* proof,
            uint64_t* index) {
  for (int n = 0; edits.size() >= 3 && n < 16; ++n, edits.remove_prefix(3)) {
    const uint8_t op = static_cast<uint8_t>(edits[0]) % 5;
    const uint8_t value = static_cast<uint8_t>(edits[2]);
    if (op == 4) {
      if (index != nullptr) *index ^= value;
      continue;
    }
    if (proof->empty()) continue;
    const size_t k = static_cast<uint8_t>(edits[1]) % proof->size();
    switch (op) {
      case 0:
        (*proof)[k][value % 32] =
            static_cast<char>((*proof)[k][value % 32] ^ (value | 1));
        break;
      case 1:
        proof->erase(proof->begin() + static_cast<ptrdiff_t>(k));
        break;
      case 2:
        proof->insert(proof->begin() + static_cast<ptrdiff_t>(k), (*proof)[k]);
        break;
      case 3:
        if (k + 1 < proof->size()) std::swap((*proof)[k], (*proof)[k + 1]);
        break;
    }
  }
}

void CheckInclusion(const Fixture& f, std::string_view in) {
  const uint64_t size = 1 + Take(in) % kMaxLeaves;
  const uint64_t index = Take(in) % size;
  auto read = [&f](int l, uint64_t i) { return f.Read(l, i); };
  const std::vector<std::string> proof =
      *BuildInclusionProof(index, size, read);
  const std::string root = f.Root(size);
  const std::string leaf = LeafHash(f.leaves[index]);
  PARLEY_FUZZ_CHECK(VerifyInclusion(index, size, leaf, proof, root).ok());
  std::vector<std::string> tampered = proof;
  uint64_t tampered_index = index;
  Tamper(in, &tampered, &tampered_index);
  const bool same = tampered == proof && tampered_index == index;
  PARLEY_FUZZ_CHECK(
      VerifyInclusion(tampered_index, size, leaf, tampered, root).ok() == same);
}

void CheckConsistency(const Fixture& f, std::string_view in) {
  const uint64_t size2 = 1 + Take(in) % kMaxLeaves;
  const uint64_t size1 = 1 + Take(in) % size2;
  auto read = [&f](int l, uint64_t i) { return f.Read(l, i); };
  const std::vector<std::string> proof =
      *BuildConsistencyProof(size1, size2, read);
  const std::string root1 = f.Root(size1);
  const std::string root2 = f.Root(size2);
  PARLEY_FUZZ_CHECK(VerifyConsistency(size1, size2, root1, root2, proof).ok());
  std::vector<std::string> tampered = proof;
  Tamper(in, &tampered, nullptr);
  PARLEY_FUZZ_CHECK(
      VerifyConsistency(size1, size2, root1, root2, tampered).ok() ==
      (tampered == proof));
}

uint64_t TakeU64(std::string_view& in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | Take(in);
  return v;
}

// A hash of 0 to 63 bytes (mostly 32) from `in`.
std::string TakeHash(std::string_view& in) {
  const uint8_t len = Take(in);
  const size_t n = std::min<size_t>(len < 0xf0 ? 32 : len % 64, in.size());
  std::string h(in.substr(0, n));
  in.remove_prefix(n);
  return h;
}

void CheckRaw(std::string_view in) {
  const uint64_t index = TakeU64(in);
  const uint64_t size1 = TakeU64(in);
  const uint64_t size2 = TakeU64(in);
  const std::string leaf = TakeHash(in);
  const std::string root1 = TakeHash(in);
  const std::string root2 = TakeHash(in);
  std::vector<std::string> proof;
  while (!in.empty() && proof.size() < 128) proof.push_back(TakeHash(in));
  absl::StatusOr<std::string> root =
      RootFromInclusionProof(index, size1, leaf, proof);
  const absl::Status verified =
      VerifyInclusion(index, size1, leaf, proof, root1);
  if (root.ok() && root1.size() == kMerkleHashSize) {
    PARLEY_FUZZ_CHECK(verified.ok() == (*root == root1));
  } else {
    PARLEY_FUZZ_CHECK(!verified.ok());
  }
  VerifyConsistency(size1, size2, root1, root2, proof).IgnoreError();
}

}  // namespace
}  // namespace parley

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace parley;
  const Fixture& f = GetFixture();
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1,
                              size - 1);
  switch (data[0] % 3) {
    case 0:
      CheckInclusion(f, rest);
      break;
    case 1:
      CheckConsistency(f, rest);
      break;
    case 2:
      CheckRaw(rest);
      break;
  }
  return 0;
}
