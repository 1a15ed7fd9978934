#ifndef PARLEY_STORAGE_TLOG_MERKLE_H_
#define PARLEY_STORAGE_TLOG_MERKLE_H_

// RFC 9162 (Certificate Transparency 2.0) Merkle tree hashing, proof
// construction and proof verification. Pure functions over SHA-256: no
// RocksDB, no I/O. Clients use the verifiers; the log uses the builders over
// its stored perfect-subtree hashes.
//
// Hashes are raw 32-byte strings throughout.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace parley {

inline constexpr size_t kMerkleHashSize = 32;

// SHA-256(0x00 || entry)  (RFC 9162 §2.1.1).
std::string LeafHash(std::string_view entry);
// SHA-256(0x01 || left || right)  (RFC 9162 §2.1.1).
std::string NodeHash(std::string_view left, std::string_view right);
// The root of the empty tree: SHA-256("").
std::string EmptyRootHash();

// MTH over `entries` (computes every leaf hash). O(n) memory.
std::string RootFromLeaves(const std::vector<std::string>& entries);
// MTH over precomputed leaf hashes.
std::string RootFromLeafHashes(const std::vector<std::string>& leaf_hashes);

// Verifies an inclusion proof per RFC 9162 §2.1.3.2. Returns OK if
// `leaf_hash` is the leaf at `index` of the tree of `tree_size` leaves whose
// root is `root`. Fails with InvalidArgument on malformed input (index out of
// range, hashes that are not 32 bytes, a proof of the wrong length) and with
// DataLoss ("root mismatch") when the proof does not lead to `root`.
absl::Status VerifyInclusion(uint64_t index, uint64_t tree_size,
                             std::string_view leaf_hash,
                             const std::vector<std::string>& proof,
                             std::string_view root);

// Root implied by an inclusion proof (RFC 9162 §2.1.3.2 steps 1-4), for
// callers that compare it themselves. Same input errors as VerifyInclusion.
absl::StatusOr<std::string> RootFromInclusionProof(
    uint64_t index, uint64_t tree_size, std::string_view leaf_hash,
    const std::vector<std::string>& proof);

// Verifies a consistency proof per RFC 9162 §2.1.4.2: the tree of `size1`
// leaves with root `root1` is a prefix of the tree of `size2` leaves with
// root `root2`. Equal sizes need an empty proof and equal roots. size1 == 0
// is rejected (a consistency proof from the empty tree proves nothing; the
// caller should simply trust the larger tree's own verification). Fails with
// InvalidArgument on malformed input and DataLoss on a mismatch.
absl::Status VerifyConsistency(uint64_t size1, uint64_t size2,
                               std::string_view root1, std::string_view root2,
                               const std::vector<std::string>& proof);

// ---------------------------------------------------------------------------
// Proof construction over stored perfect subtrees.
//
// A perfect subtree is identified by (level, index): it covers leaves
// [index << level, (index + 1) << level). Level 0 nodes are leaf hashes. The
// builders below read only perfect subtrees that lie entirely inside the
// requested tree size, O(log n) of them for each proof hash.

// Returns the stored hash of perfect subtree (level, index), or an error that
// the builders pass through unchanged.
using SubtreeHashReader =
    absl::FunctionRef<absl::StatusOr<std::string>(int level, uint64_t index)>;

// MTH(D[begin:end]) where `begin` is a multiple of the largest power of two
// not exceeding end - begin (true of every subtree in RFC 9162's recursive
// definitions). REQUIRES: begin < end.
absl::StatusOr<std::string> RangeHash(uint64_t begin, uint64_t end,
                                      SubtreeHashReader read);

// MTH(D[0:size]); EmptyRootHash() for size 0.
absl::StatusOr<std::string> RootHashFromSubtrees(uint64_t size,
                                                 SubtreeHashReader read);

// PATH(index, D[0:size]) of RFC 9162 §2.1.3.1, leaf sibling first.
// REQUIRES: index < size.
absl::StatusOr<std::vector<std::string>> BuildInclusionProof(
    uint64_t index, uint64_t size, SubtreeHashReader read);

// PROOF(size1, D[0:size2]) of RFC 9162 §2.1.4.1.
// REQUIRES: 0 < size1 <= size2 (empty proof when equal).
absl::StatusOr<std::vector<std::string>> BuildConsistencyProof(
    uint64_t size1, uint64_t size2, SubtreeHashReader read);

// MTH(D[0:size]) from the leaf hashes of a contiguous range D[begin:begin+n)
// (n = leaf_hashes.size()) and stored subtrees for everything outside it:
// the check that a run of entries read from storage belongs to a tree whose
// root the caller trusts. O(n + log size) hashes and O(log size) calls to
// `read` (only for subtrees disjoint from the range). InvalidArgument if the
// range is empty or does not fit in `size`.
absl::StatusOr<std::string> RootFromLeafRange(
    uint64_t size, uint64_t begin, const std::vector<std::string>& leaf_hashes,
    SubtreeHashReader read);

// MTH(D[0:size]) from an inclusion proof for leaf `from` (PATH(from,
// D[0:size]), leaf sibling first, as BuildInclusionProof gives it) and the
// leaf hashes of [from, size): the proof's left siblings cover [0, from),
// the leaves the rest. The proof is not needed, and may be empty, when from
// is 0. InvalidArgument if the range is empty or does not fit, or the proof
// has the wrong length.
absl::StatusOr<std::string> RootFromPrefixProofAndLeaves(
    uint64_t from, uint64_t size, const std::vector<std::string>& from_proof,
    const std::vector<std::string>& leaf_hashes_from);

// The perfect subtrees whose hashes fold into MTH(D[0:size]), left to right
// (one per set bit of `size`, largest first), as (level, index) pairs.
std::vector<std::pair<int, uint64_t>> FrontierSubtrees(uint64_t size);

// The right edge of a Merkle tree grown one leaf at a time: the perfect
// subtrees of FrontierSubtrees(size), largest first, with their hashes.
// What the log keeps in memory to append, and what an audit recomputes
// from the entries. Copyable; not thread-safe.
class MerkleFrontier {
 public:
  struct Subtree {
    int level;
    std::string hash;
  };
  // Called for every subtree an Append completes above the leaves, lowest
  // first: its (level, index) and hash. An error stops the Append.
  using NodeCallback = absl::FunctionRef<absl::Status(
      int level, uint64_t index, const std::string& hash)>;

  MerkleFrontier() = default;
  // From stored hashes of FrontierSubtrees(size), in that order.
  explicit MerkleFrontier(std::vector<Subtree> subtrees)
      : subtrees_(std::move(subtrees)) {}

  // Adds leaf `index`'s hash; REQUIRES: `index` is the number of leaves so
  // far. Returns the first error of `on_node`, else OK.
  absl::Status Append(uint64_t index, std::string leaf_hash,
                      NodeCallback on_node);
  // MTH of the leaves so far; EmptyRootHash() when there are none.
  std::string Root() const;
  bool empty() const { return subtrees_.empty(); }

 private:
  std::vector<Subtree> subtrees_;
};

}  // namespace parley

#endif  // PARLEY_STORAGE_TLOG_MERKLE_H_
