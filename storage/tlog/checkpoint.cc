#include "storage/tlog/checkpoint.h"


#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "crypto/encoding.h"
#include "storage/tlog/merkle.h"
#include "storage/tlog/string_util.h"

namespace parley {

using storage_internal::Av;
using storage_internal::Split;
namespace {

// Decimal without sign or leading zeros ("0" itself is fine), fits uint64.
absl::StatusOr<uint64_t> ParseCanonicalDecimal(std::string_view s,
                                               std::string_view what) {
  bool digits = !s.empty();
  for (char c : s) digits = digits && c >= '0' && c <= '9';
  uint64_t value = 0;
  if (!digits || (s.size() > 1 && s[0] == '0') ||
      !absl::SimpleAtoi(Av(s), &value)) {
    return absl::InvalidArgumentError(absl::StrCat(
        Av(what), " \"", Av(s), "\" is not a decimal without leading zeros"));
  }
  return value;
}

absl::StatusOr<std::string> ParseHashLine(std::string_view line,
                                          std::string_view what) {
  absl::StatusOr<std::string> hash = Base64Decode(line);
  if (!hash.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(Av(what), " is not valid base64: ", hash.status().message()));
  }
  if (hash->size() != kMerkleHashSize) {
    return absl::InvalidArgumentError(
        absl::StrCat(Av(what), " is ", hash->size(), " bytes, want 32"));
  }
  return hash;
}

}  // namespace

std::string FormatCheckpoint(const Checkpoint& checkpoint) {
  std::string out = absl::StrCat(checkpoint.origin, "\n", checkpoint.size,
                                 "\n", Base64Encode(checkpoint.root_hash),
                                 "\n");
  for (const std::string& ext : checkpoint.extensions) {
    absl::StrAppend(&out, ext, "\n");
  }
  return out;
}

absl::StatusOr<Checkpoint> ParseCheckpoint(std::string_view text) {
  if (text.empty() || text.back() != '\n') {
    return absl::InvalidArgumentError("checkpoint must end with a newline");
  }
  text.remove_suffix(1);
  std::vector<std::string_view> lines = Split(text, '\n');
  if (lines.size() < 3) {
    return absl::InvalidArgumentError("checkpoint has fewer than three lines");
  }
  Checkpoint cp;
  if (lines[0].empty()) {
    return absl::InvalidArgumentError("checkpoint origin is empty");
  }
  cp.origin = std::string(lines[0]);
  absl::StatusOr<uint64_t> size =
      ParseCanonicalDecimal(lines[1], "checkpoint size");
  if (!size.ok()) return size.status();
  cp.size = *size;
  absl::StatusOr<std::string> root = ParseHashLine(lines[2], "checkpoint root");
  if (!root.ok()) return root.status();
  cp.root_hash = *std::move(root);
  for (size_t i = 3; i < lines.size(); ++i) {
    if (lines[i].empty()) {
      return absl::InvalidArgumentError("checkpoint has an empty extension line");
    }
    cp.extensions.emplace_back(lines[i]);
  }
  return cp;
}

absl::StatusOr<SignedCheckpoint> VerifyCheckpointNote(
    std::string_view note, const NoteVerifier& verifier,
    std::string_view origin) {
  absl::StatusOr<std::string> text = VerifyNote(note, verifier);
  if (!text.ok()) return text.status();
  absl::StatusOr<Checkpoint> cp = ParseCheckpoint(*text);
  if (!cp.ok()) return cp.status();
  if (cp->origin != origin) {
    return absl::InvalidArgumentError(absl::StrCat(
        "checkpoint origin \"", cp->origin, "\" is not \"", Av(origin), "\""));
  }
  SignedCheckpoint out;
  out.origin = std::move(cp->origin);
  out.size = cp->size;
  out.root_hash = std::move(cp->root_hash);
  out.note = std::string(note);
  return out;
}

std::string FormatTlogProof(const TlogProof& proof) {
  std::string out = absl::StrCat(Av(kTlogProofHeader), "\n");
  if (proof.extra.has_value()) {
    absl::StrAppend(&out, "extra ", Base64Encode(*proof.extra), "\n");
  }
  absl::StrAppend(&out, "index ", proof.index, "\n");
  for (const std::string& h : proof.hashes) {
    absl::StrAppend(&out, Base64Encode(h), "\n");
  }
  absl::StrAppend(&out, "\n", proof.checkpoint);
  return out;
}

absl::StatusOr<TlogProof> ParseTlogProof(std::string_view text) {
  size_t blank = text.find("\n\n");
  if (blank == std::string_view::npos) {
    return absl::InvalidArgumentError(
        "tlog-proof has no blank line before the checkpoint");
  }
  TlogProof proof;
  proof.checkpoint = std::string(text.substr(blank + 2));
  std::vector<std::string_view> lines =
      Split(text.substr(0, blank), '\n');
  size_t i = 0;
  if (lines[i] != kTlogProofHeader) {
    return absl::InvalidArgumentError(
        absl::StrCat("tlog-proof must start with \"", Av(kTlogProofHeader), "\""));
  }
  ++i;
  if (i < lines.size() && lines[i].starts_with("extra ")) {
    absl::StatusOr<std::string> extra = Base64Decode(lines[i].substr(6));
    if (!extra.ok()) {
      return absl::InvalidArgumentError("tlog-proof extra is not base64");
    }
    proof.extra = *std::move(extra);
    ++i;
  }
  if (i >= lines.size() || !lines[i].starts_with("index ")) {
    return absl::InvalidArgumentError("tlog-proof lacks the index line");
  }
  absl::StatusOr<uint64_t> index =
      ParseCanonicalDecimal(lines[i].substr(6), "tlog-proof index");
  if (!index.ok()) return index.status();
  proof.index = *index;
  for (++i; i < lines.size(); ++i) {
    absl::StatusOr<std::string> h = ParseHashLine(
        lines[i], absl::StrCat("tlog-proof hash ", proof.hashes.size()));
    if (!h.ok()) return h.status();
    proof.hashes.push_back(*std::move(h));
  }
  return proof;
}

absl::StatusOr<SignedCheckpoint> VerifyTlogProof(std::string_view text,
                                                 std::string_view entry,
                                                 const NoteVerifier& verifier,
                                                 std::string_view origin) {
  absl::StatusOr<TlogProof> proof = ParseTlogProof(text);
  if (!proof.ok()) return proof.status();
  absl::StatusOr<SignedCheckpoint> cp =
      VerifyCheckpointNote(proof->checkpoint, verifier, origin);
  if (!cp.ok()) return cp.status();
  absl::Status s = VerifyInclusion(proof->index, cp->size, LeafHash(entry),
                                   proof->hashes, cp->root_hash);
  if (!s.ok()) return s;
  return cp;
}

}  // namespace parley
