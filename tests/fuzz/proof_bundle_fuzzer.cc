// VerifyProofBundle (client/deconfliction/proof_bundle.h) end to end: a bundle
// is a file anyone may hand a verifier.
//
// An input whose first byte is even is the bundle text itself: the verifier
// returns an error or a report, never crashes, and says the same twice.
//
// An input whose first byte is odd describes one change to a valid bundle
// (tests/interop/synthetic_bundle.json, built by an independent producer):
//   byte 1:     which field (see Mutate)
//   bytes 2-5:  which entry or identity, and which byte within the field
//   byte 6:     XOR mask (0 is taken as 1, so the field always changes)
// Every such field is signed, hashed or bound to the log, so the changed
// bundle, checked against the pinned verifier key, must not verify.

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "client/deconfliction/proof_bundle.h"
#include "crypto/ed25519.h"
#include "crypto/encoding.h"
#include "nlohmann/json.hpp"
#include "tests/fuzz/fuzz_util.h"

namespace parley {
namespace {

using nlohmann::json;

struct Base {
  json bundle;
  std::string verifier_key;
};

const Base& BaseBundle() {
  static const Base* base = [] {
    std::ifstream in(PARLEY_FUZZ_BASE_BUNDLE, std::ios::binary);
    std::string text{std::istreambuf_iterator<char>(in),
                     std::istreambuf_iterator<char>()};
    PARLEY_FUZZ_CHECK(!text.empty());
    auto* b = new Base{json::parse(text), ""};
    b->verifier_key = b->bundle["verifier_key"].get<std::string>();
    // The mutation half is only meaningful if the original verifies.
    ProofBundleVerifyOptions pinned{b->verifier_key};
    PARLEY_FUZZ_CHECK(VerifyProofBundle(text, pinned).ok());
    return b;
  }();
  return *base;
}

uint32_t ReadU32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 |
         uint32_t{p[3]} << 24;
}

// Flips bits of the decoded value of a base64 string member.
bool FlipBase64(json& member, uint32_t at, uint8_t mask) {
  auto bytes = Base64Decode(member.get<std::string>());
  PARLEY_FUZZ_CHECK(bytes.ok());
  if (bytes->empty()) return false;
  (*bytes)[at % bytes->size()] ^= static_cast<char>(mask);
  member = Base64Encode(*bytes);
  return true;
}

// Flips bits of one 32-byte hash (a base64 line) in a tlog-proof: a
// sibling hash of the inclusion proof or the root hash of its checkpoint.
bool FlipProofHash(json& member, uint32_t at, uint8_t mask) {
  std::vector<std::string> lines =
      absl::StrSplit(member.get<std::string>(), '\n');
  std::vector<size_t> hash_lines;
  for (size_t i = 0; i < lines.size(); ++i) {
    auto bytes = Base64Decode(lines[i]);
    if (bytes.ok() && bytes->size() == 32) hash_lines.push_back(i);
  }
  if (hash_lines.empty()) return false;
  std::string& line = lines[hash_lines[at % hash_lines.size()]];
  std::string bytes = *Base64Decode(line);
  bytes[(at / 64) % bytes.size()] ^= static_cast<char>(mask);
  line = Base64Encode(bytes);
  member = absl::StrJoin(lines, "\n");
  return true;
}

// Applies the change `spec` describes to `bundle`. False if it does not
// apply (nothing was changed).
bool Mutate(json& bundle, uint8_t field, uint32_t at, uint8_t mask) {
  json& entries = bundle["entries"];
  json& identities = bundle["identities"];
  json& entry = entries[at % entries.size()];
  json& identity = identities[at % identities.size()];
  at /= 32;
  switch (field % 9) {
    case 0:  // The exact bytes of a log entry.
      return FlipBase64(entry["leaf"], at, mask);
    case 1:  // An inclusion proof hash or the proof's copy of the root.
      return FlipProofHash(entry["tlog_proof"], at, mask);
    case 2:  // Any byte of the tlog-proof text.
    {
      std::string text = entry["tlog_proof"].get<std::string>();
      text[at % text.size()] ^= static_cast<char>(mask);
      entry["tlog_proof"] = text;
      return true;
    }
    case 3: {  // The signed body of the checkpoint (origin, size, root).
      std::string text = bundle["checkpoint"].get<std::string>();
      size_t body = text.find("\n\n");
      PARLEY_FUZZ_CHECK(body != std::string::npos);
      text[at % (body + 1)] ^= static_cast<char>(mask);
      bundle["checkpoint"] = text;
      return true;
    }
    case 4: {  // The checkpoint's signature (key hash and signature bytes).
      std::string text = bundle["checkpoint"].get<std::string>();
      size_t space = text.rfind(' ');
      size_t end = text.rfind('\n');
      PARLEY_FUZZ_CHECK(space != std::string::npos && end > space);
      json sig = text.substr(space + 1, end - space - 1);
      if (!FlipBase64(sig, at, mask)) return false;
      bundle["checkpoint"] =
          text.substr(0, space + 1) + sig.get<std::string>() + "\n";
      return true;
    }
    case 5:  // An identity key.
      return FlipBase64(identity["identity_key"], at, mask);
    case 6:  // The index an entry claims.
      entry["index"] = entry["index"].get<uint64_t>() + mask;
      return true;
    case 7:  // The index of an identity's registration.
      identity["registration_index"] =
          identity["registration_index"].get<uint64_t>() + mask;
      return true;
    case 8: {  // The kind an entry claims: that of another entry.
      const json& other = entries[(at + 1) % entries.size()]["kind"];
      if (other == entry["kind"]) return false;
      entry["kind"] = other;
      return true;
    }
  }
  return false;
}

void FuzzMutation(const uint8_t* data, size_t size) {
  if (size < 7) return;
  const Base& base = BaseBundle();
  json bundle = base.bundle;
  const uint8_t mask = data[6] == 0 ? 1 : data[6];
  if (!Mutate(bundle, data[1], ReadU32(data + 2), mask)) return;
  if (bundle == base.bundle) return;  // e.g. an index that wrapped around
  ProofBundleVerifyOptions pinned{base.verifier_key};
  // A flipped byte of a text field may leave invalid UTF-8, which dump()
  // refuses by throwing; replaced by U+FFFD it is still a changed field.
  const std::string text =
      bundle.dump(1, ' ', false, json::error_handler_t::replace);
  absl::StatusOr<ProofReport> report = VerifyProofBundle(text, pinned);
  PARLEY_FUZZ_CHECK(!report.ok());
}

void FuzzText(std::string_view text) {
  absl::StatusOr<ProofReport> first = VerifyProofBundle(text);
  absl::StatusOr<ProofReport> again = VerifyProofBundle(text);
  PARLEY_FUZZ_CHECK(first.ok() == again.ok());
  if (first.ok()) {
    PARLEY_FUZZ_CHECK(first->text == again->text);
    PARLEY_FUZZ_CHECK(!first->verifier_key_pinned);
  } else {
    PARLEY_FUZZ_CHECK(first.status() == again.status());
  }
}

}  // namespace
}  // namespace parley

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  PARLEY_FUZZ_CHECK(parley::InitCrypto().ok());
  parley::BaseBundle();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  if (data[0] % 2 == 1) {
    parley::FuzzMutation(data, size);
  } else {
    parley::FuzzText(
        std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  }
  return 0;
}
