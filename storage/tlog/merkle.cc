#include "storage/tlog/merkle.h"

#include <algorithm>
#include <bit>
#include <map>

#include "absl/strings/str_cat.h"
#include "crypto/hash.h"
#include "storage/tlog/string_util.h"

namespace parley {

using storage_internal::Av;
using storage_internal::Split;
namespace {

constexpr char kLeafPrefix[] = {'\x00'};
constexpr char kNodePrefix[] = {'\x01'};

// Largest power of two strictly less than n. REQUIRES: n >= 2.
uint64_t SplitPoint(uint64_t n) {
  return uint64_t{1} << (std::bit_width(n - 1) - 1);
}

absl::Status CheckHash(std::string_view hash, std::string_view what) {
  if (hash.size() != kMerkleHashSize) {
    return absl::InvalidArgumentError(
        absl::StrCat(Av(what), " is ", hash.size(), " bytes, want ",
                     kMerkleHashSize));
  }
  return absl::OkStatus();
}

absl::Status CheckProofHashes(const std::vector<std::string>& proof) {
  for (size_t i = 0; i < proof.size(); ++i) {
    if (absl::Status s = CheckHash(proof[i], absl::StrCat("proof[", i, "]"));
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

// MTH over leaf_hashes[lo, hi), splitting as RFC 9162 does. REQUIRES: lo < hi.
std::string MthOfLeafHashes(const std::vector<std::string>& leaf_hashes,
                            size_t lo, size_t hi) {
  if (hi - lo == 1) return leaf_hashes[lo];
  size_t k = SplitPoint(hi - lo);
  return NodeHash(MthOfLeafHashes(leaf_hashes, lo, lo + k),
                  MthOfLeafHashes(leaf_hashes, lo + k, hi));
}

std::string FoldRight(const std::vector<std::string>& hashes) {
  std::string h = hashes.back();
  for (size_t i = hashes.size() - 1; i-- > 0;) h = NodeHash(hashes[i], h);
  return h;
}

}  // namespace

std::string LeafHash(std::string_view entry) {
  return Sha256({std::string_view(kLeafPrefix, 1), entry});
}

std::string NodeHash(std::string_view left, std::string_view right) {
  return Sha256({std::string_view(kNodePrefix, 1), left, right});
}

std::string EmptyRootHash() { return Sha256(std::string_view()); }

std::string RootFromLeafHashes(const std::vector<std::string>& leaf_hashes) {
  if (leaf_hashes.empty()) return EmptyRootHash();
  // Bottom-up; an odd node at the right edge is promoted unchanged, which is
  // exactly RFC 9162's split at the largest power of two.
  std::vector<std::string> level = leaf_hashes;
  while (level.size() > 1) {
    std::vector<std::string> next;
    next.reserve((level.size() + 1) / 2);
    for (size_t i = 0; i + 1 < level.size(); i += 2) {
      next.push_back(NodeHash(level[i], level[i + 1]));
    }
    if (level.size() % 2 == 1) next.push_back(std::move(level.back()));
    level = std::move(next);
  }
  return level[0];
}

std::string RootFromLeaves(const std::vector<std::string>& entries) {
  std::vector<std::string> leaves;
  leaves.reserve(entries.size());
  for (const std::string& e : entries) leaves.push_back(LeafHash(e));
  return RootFromLeafHashes(leaves);
}

absl::StatusOr<std::string> RootFromInclusionProof(
    uint64_t index, uint64_t tree_size, std::string_view leaf_hash,
    const std::vector<std::string>& proof) {
  if (index >= tree_size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "leaf index ", index, " is not below tree size ", tree_size));
  }
  if (absl::Status s = CheckHash(leaf_hash, "leaf hash"); !s.ok()) return s;
  if (absl::Status s = CheckProofHashes(proof); !s.ok()) return s;
  // RFC 9162 §2.1.3.2.
  uint64_t fn = index;
  uint64_t sn = tree_size - 1;
  std::string r(leaf_hash);
  for (const std::string& p : proof) {
    if (sn == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("inclusion proof has ", proof.size(),
                       " hashes, too many for index ", index, " in size ",
                       tree_size));
    }
    if ((fn & 1) == 1 || fn == sn) {
      r = NodeHash(p, r);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("inclusion proof has ", proof.size(),
                     " hashes, too few for index ", index, " in size ",
                     tree_size));
  }
  return r;
}

absl::Status VerifyInclusion(uint64_t index, uint64_t tree_size,
                             std::string_view leaf_hash,
                             const std::vector<std::string>& proof,
                             std::string_view root) {
  if (absl::Status s = CheckHash(root, "root"); !s.ok()) return s;
  absl::StatusOr<std::string> computed =
      RootFromInclusionProof(index, tree_size, leaf_hash, proof);
  if (!computed.ok()) return computed.status();
  if (*computed != root) {
    return absl::DataLossError(absl::StrCat(
        "inclusion proof for index ", index, " in size ", tree_size,
        " does not lead to the expected root (root mismatch)"));
  }
  return absl::OkStatus();
}

absl::Status VerifyConsistency(uint64_t size1, uint64_t size2,
                               std::string_view root1, std::string_view root2,
                               const std::vector<std::string>& proof) {
  if (size1 > size2) {
    return absl::InvalidArgumentError(
        absl::StrCat("size1 ", size1, " is larger than size2 ", size2));
  }
  if (size1 == 0) {
    return absl::InvalidArgumentError(
        "consistency from the empty tree (size1 = 0) proves nothing");
  }
  if (size1 == size2) {
    if (!proof.empty()) {
      return absl::InvalidArgumentError(
          "consistency proof between equal sizes must be empty");
    }
    if (root1 != root2) {
      return absl::DataLossError(absl::StrCat(
          "different roots for the same tree size ", size1,
          " (the log has forked)"));
    }
    return absl::OkStatus();
  }
  if (absl::Status s = CheckHash(root1, "root1"); !s.ok()) return s;
  if (absl::Status s = CheckHash(root2, "root2"); !s.ok()) return s;
  if (proof.empty()) {
    return absl::InvalidArgumentError("consistency proof is empty");
  }
  if (absl::Status s = CheckProofHashes(proof); !s.ok()) return s;

  // RFC 9162 §2.1.4.2.
  std::vector<std::string> path;
  if (std::has_single_bit(size1)) path.emplace_back(root1);
  path.insert(path.end(), proof.begin(), proof.end());
  uint64_t fn = size1 - 1;
  uint64_t sn = size2 - 1;
  while ((fn & 1) == 1) {
    fn >>= 1;
    sn >>= 1;
  }
  std::string fr = path[0];
  std::string sr = path[0];
  for (size_t i = 1; i < path.size(); ++i) {
    const std::string& c = path[i];
    if (sn == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "consistency proof has ", proof.size(), " hashes, too many for ",
          size1, " -> ", size2));
    }
    if ((fn & 1) == 1 || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "consistency proof has ", proof.size(), " hashes, too few for ", size1,
        " -> ", size2));
  }
  if (fr != root1) {
    return absl::DataLossError(absl::StrCat(
        "consistency proof does not lead to root1 of size ", size1,
        " (root mismatch)"));
  }
  if (sr != root2) {
    return absl::DataLossError(absl::StrCat(
        "consistency proof does not lead to root2 of size ", size2,
        " (root mismatch)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> RangeHash(uint64_t begin, uint64_t end,
                                      SubtreeHashReader read) {
  if (begin >= end) {
    return absl::InvalidArgumentError(
        absl::StrCat("empty subtree range [", begin, ", ", end, ")"));
  }
  std::vector<std::string> parts;
  uint64_t pos = begin;
  while (pos < end) {
    int level = std::bit_width(end - pos) - 1;
    if (pos != 0) level = std::min(level, std::countr_zero(pos));
    absl::StatusOr<std::string> h = read(level, pos >> level);
    if (!h.ok()) return h.status();
    parts.push_back(*std::move(h));
    pos += uint64_t{1} << level;
  }
  return FoldRight(parts);
}

absl::StatusOr<std::string> RootHashFromSubtrees(uint64_t size,
                                                 SubtreeHashReader read) {
  if (size == 0) return EmptyRootHash();
  return RangeHash(0, size, read);
}

absl::StatusOr<std::vector<std::string>> BuildInclusionProof(
    uint64_t index, uint64_t size, SubtreeHashReader read) {
  if (index >= size) {
    return absl::OutOfRangeError(absl::StrCat(
        "index ", index, " is beyond the tree size ", size));
  }
  std::vector<std::string> proof;
  uint64_t lo = 0;
  uint64_t hi = size;
  while (hi - lo > 1) {
    uint64_t k = SplitPoint(hi - lo);
    absl::StatusOr<std::string> sibling;
    if (index < lo + k) {
      sibling = RangeHash(lo + k, hi, read);
      hi = lo + k;
    } else {
      sibling = RangeHash(lo, lo + k, read);
      lo = lo + k;
    }
    if (!sibling.ok()) return sibling.status();
    proof.push_back(*std::move(sibling));
  }
  std::reverse(proof.begin(), proof.end());
  return proof;
}

absl::StatusOr<std::vector<std::string>> BuildConsistencyProof(
    uint64_t size1, uint64_t size2, SubtreeHashReader read) {
  if (size1 == 0 || size1 > size2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "no consistency proof from size ", size1, " to size ", size2,
        " (need 0 < size1 <= size2)"));
  }
  std::vector<std::string> proof;
  uint64_t lo = 0;
  uint64_t hi = size2;
  bool complete_subtree = true;  // The "b" flag of RFC 9162 SUBPROOF.
  while (true) {
    if (size1 == hi) {
      if (!complete_subtree) {
        absl::StatusOr<std::string> h = RangeHash(lo, hi, read);
        if (!h.ok()) return h.status();
        proof.push_back(*std::move(h));
      }
      break;
    }
    uint64_t k = SplitPoint(hi - lo);
    absl::StatusOr<std::string> h;
    if (size1 - lo <= k) {
      h = RangeHash(lo + k, hi, read);
      hi = lo + k;
    } else {
      h = RangeHash(lo, lo + k, read);
      lo = lo + k;
      complete_subtree = false;
    }
    if (!h.ok()) return h.status();
    proof.push_back(*std::move(h));
  }
  std::reverse(proof.begin(), proof.end());
  return proof;
}

absl::StatusOr<std::string> RootFromLeafRange(
    uint64_t size, uint64_t begin, const std::vector<std::string>& leaf_hashes,
    SubtreeHashReader read) {
  const uint64_t end = begin + leaf_hashes.size();
  if (leaf_hashes.empty() || end > size || end < begin) {
    return absl::InvalidArgumentError(absl::StrCat(
        "leaf range [", begin, ", ", end, ") is empty or beyond tree size ",
        size));
  }
  for (size_t i = 0; i < leaf_hashes.size(); ++i) {
    if (absl::Status s =
            CheckHash(leaf_hashes[i], absl::StrCat("leaf hash ", begin + i));
        !s.ok()) {
      return s;
    }
  }
  // MTH(D[lo:hi]): stored subtrees where disjoint from the range, the given
  // leaves where inside it, recursion only along the range's two edges.
  auto mth = [&](auto& self, uint64_t lo,
                 uint64_t hi) -> absl::StatusOr<std::string> {
    if (hi <= begin || lo >= end) return RangeHash(lo, hi, read);
    if (begin <= lo && hi <= end) {
      return MthOfLeafHashes(leaf_hashes, lo - begin, hi - begin);
    }
    uint64_t k = SplitPoint(hi - lo);
    absl::StatusOr<std::string> left = self(self, lo, lo + k);
    if (!left.ok()) return left.status();
    absl::StatusOr<std::string> right = self(self, lo + k, hi);
    if (!right.ok()) return right.status();
    return NodeHash(*left, *right);
  };
  return mth(mth, 0, size);
}

absl::StatusOr<std::string> RootFromPrefixProofAndLeaves(
    uint64_t from, uint64_t size, const std::vector<std::string>& from_proof,
    const std::vector<std::string>& leaf_hashes_from) {
  if (from >= size || leaf_hashes_from.size() != size - from) {
    return absl::InvalidArgumentError("bad range for a root computation");
  }
  // The siblings along PATH(from), root first; those left of `from` are
  // perfect subtrees, and RootFromLeafRange asks for exactly those.
  std::vector<std::pair<uint64_t, uint64_t>> siblings;
  uint64_t lo = 0, hi = size;
  while (hi - lo > 1) {
    uint64_t k = SplitPoint(hi - lo);
    if (from < lo + k) {
      siblings.emplace_back(lo + k, hi);
      hi = lo + k;
    } else {
      siblings.emplace_back(lo, lo + k);
      lo = lo + k;
    }
  }
  if (from > 0 && from_proof.size() != siblings.size()) {
    return absl::InvalidArgumentError("inclusion proof has the wrong length");
  }
  std::map<std::pair<int, uint64_t>, std::string> left;
  for (size_t i = 0; i < siblings.size(); ++i) {
    auto [l, h] = siblings[siblings.size() - 1 - i];
    if (h > from) continue;
    int level = std::countr_zero(h - l);
    left[{level, l >> level}] = from_proof[i];
  }
  return RootFromLeafRange(
      size, from, leaf_hashes_from,
      [&](int level, uint64_t index) -> absl::StatusOr<std::string> {
        auto it = left.find({level, index});
        if (it == left.end()) {
          return absl::InternalError("a subtree left of the range is unknown");
        }
        return it->second;
      });
}

std::vector<std::pair<int, uint64_t>> FrontierSubtrees(uint64_t size) {
  std::vector<std::pair<int, uint64_t>> out;
  uint64_t pos = 0;
  for (int level = 63; level >= 0; --level) {
    uint64_t width = uint64_t{1} << level;
    if ((size & width) != 0) {
      out.emplace_back(level, pos >> level);
      pos += width;
    }
  }
  return out;
}

absl::Status MerkleFrontier::Append(uint64_t index, std::string leaf_hash,
                                    NodeCallback on_node) {
  subtrees_.push_back({0, std::move(leaf_hash)});
  while (subtrees_.size() >= 2 &&
         subtrees_[subtrees_.size() - 1].level ==
             subtrees_[subtrees_.size() - 2].level) {
    const int level = subtrees_.back().level + 1;
    std::string parent = NodeHash(subtrees_[subtrees_.size() - 2].hash,
                                  subtrees_[subtrees_.size() - 1].hash);
    subtrees_.pop_back();
    subtrees_.pop_back();
    const uint64_t node_index = ((index + 1) >> level) - 1;
    if (absl::Status s = on_node(level, node_index, parent); !s.ok()) return s;
    subtrees_.push_back({level, std::move(parent)});
  }
  return absl::OkStatus();
}

std::string MerkleFrontier::Root() const {
  if (subtrees_.empty()) return EmptyRootHash();
  std::string h = subtrees_.back().hash;
  for (size_t i = subtrees_.size() - 1; i-- > 0;) {
    h = NodeHash(subtrees_[i].hash, h);
  }
  return h;
}

}  // namespace parley
