#include "client/core/log_client.h"

#include <filesystem>
#include <map>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "crypto/file_util.h"
#include "nlohmann/json.hpp"
#include "parley/v1/log.grpc.pb.h"
#include "storage/tlog/merkle.h"

namespace parley {
namespace {

constexpr char kTrustFile[] = "checkpoint.json";

std::vector<std::string> ToVector(
    const google::protobuf::RepeatedPtrField<std::string>& field) {
  return std::vector<std::string>(field.begin(), field.end());
}

}  // namespace

absl::StatusOr<std::optional<CheckpointTrust>> LoadCheckpointTrust(const Profile& profile) {
  const std::string path = absl::StrCat(profile.dir(), "/", kTrustFile);
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) {
    if (absl::IsNotFound(text.status())) return std::nullopt;
    return text.status();
  }
  nlohmann::json json = nlohmann::json::parse(*text, nullptr, false);
  if (!json.is_object() || !json.value("verifier_key", nlohmann::json()).is_string() ||
      !json.value("checkpoint", nlohmann::json()).is_string()) {
    return absl::DataLossError(absl::StrCat(
        path, " is corrupted; it holds the log checkpoint this profile "
        "trusts: restore it, or remove it to trust the server afresh"));
  }
  return CheckpointTrust{json["verifier_key"].get<std::string>(),
                  json["checkpoint"].get<std::string>()};
}

absl::Status SaveCheckpointTrust(const Profile& profile, const CheckpointTrust& trust) {
  nlohmann::json json = {{"verifier_key", trust.verifier_key},
                         {"checkpoint", trust.checkpoint_note}};
  return WriteFileAtomically(absl::StrCat(profile.dir(), "/", kTrustFile),
                             json.dump(2) + "\n", 0600);
}

absl::Status LogClient::Call(
    const std::function<grpc::Status(grpc::ClientContext*)>& rpc) {
  if (auth_ != nullptr) return auth_->Call(rpc);
  grpc::ClientContext context;
  SetDeadline(&context, session_.timeout());
  return FromRpcStatus(rpc(&context), session_.pin().address);
}

absl::StatusOr<NoteVerifier> LogClient::TrustedVerifier(
    const std::string& pinned) {
  absl::StatusOr<std::optional<CheckpointTrust>> trust = LoadCheckpointTrust(profile_);
  if (!trust.ok()) return trust.status();
  absl::StatusOr<v1::ServerInfo> info = session_.GetServerInfo();
  if (!info.ok()) return info.status();
  std::string key = !pinned.empty()
                        ? pinned
                        : (trust->has_value() ? (*trust)->verifier_key
                                              : info->verifier_key());
  if (trust->has_value() && !pinned.empty() &&
      (*trust)->verifier_key != pinned) {
    return absl::PermissionDeniedError(absl::StrCat(
        "--verifier-key ", pinned, " differs from the key this profile "
        "already trusts (", (*trust)->verifier_key, ")"));
  }
  if (info->verifier_key() != key) {
    return absl::PermissionDeniedError(absl::StrCat(
        "the server's log verifier key is ", info->verifier_key(),
        " but this profile trusts ", key,
        ": refusing (another log, or a replaced key)"));
  }
  absl::StatusOr<NoteVerifier> verifier = ParseVerifierKey(key);
  if (!verifier.ok()) return verifier.status();
  if (!trust->has_value()) {
    if (absl::Status s = SaveCheckpointTrust(profile_, CheckpointTrust{key, ""}); !s.ok()) {
      return s;
    }
  }
  return verifier;
}

absl::StatusOr<SignedCheckpoint> LogClient::Checkpoint(
    const NoteVerifier& verifier, bool fresh) {
  auto api = v1::Log::NewStub(session_.channel());
  v1::GetCheckpointRequest request;
  request.set_fresh(fresh);
  v1::Checkpoint response;
  grpc::ClientContext context;
  SetDeadline(&context, session_.timeout());
  grpc::Status status = api->GetCheckpoint(&context, request, &response);
  if (!status.ok()) return FromRpcStatus(status, session_.pin().address);
  absl::StatusOr<SignedCheckpoint> checkpoint =
      VerifyCheckpointNote(response.note(), verifier, verifier.name);
  if (!checkpoint.ok()) {
    return absl::DataLossError(absl::StrCat(
        "the server's checkpoint does not verify: ",
        checkpoint.status().message()));
  }
  return checkpoint;
}

absl::StatusOr<LogVerifyResult> LogClient::VerifyAndAdvance(
    const std::string& pinned) {
  absl::StatusOr<NoteVerifier> verifier = TrustedVerifier(pinned);
  if (!verifier.ok()) return verifier.status();
  absl::StatusOr<std::optional<CheckpointTrust>> trust = LoadCheckpointTrust(profile_);
  if (!trust.ok()) return trust.status();
  LogVerifyResult result;
  auto evidence = [&](const std::string& offered,
                      const std::string& why) -> absl::Status {
    std::string dir = absl::StrCat(profile_.dir(), "/evidence");
    (void)MakeDirectories(dir, 0700);
    std::string stem =
        absl::StrCat(dir, "/", absl::ToUnixSeconds(absl::Now()), "-");
    (void)WriteFileAtomically(stem + "trusted.note",
                              (*trust)->checkpoint_note, 0600);
    (void)WriteFileAtomically(stem + "offered.note", offered, 0600);
    return absl::DataLossError(absl::StrCat(
        "the log is NOT consistent with the checkpoint this profile trusted: ",
        why, ". Both checkpoints are kept as evidence: ", stem,
        "trusted.note and ", stem, "offered.note"));
  };
  absl::StatusOr<SignedCheckpoint> current = Checkpoint(*verifier);
  if (!current.ok()) return current.status();
  result.current = *current;
  if (!trust->has_value() || (*trust)->checkpoint_note.empty()) {
    result.first_use = true;
  } else {
    absl::StatusOr<SignedCheckpoint> previous = VerifyCheckpointNote(
        (*trust)->checkpoint_note, *verifier, verifier->name);
    if (!previous.ok()) {
      return absl::DataLossError(absl::StrCat(
          "the trusted checkpoint in ", profile_.dir(),
          "/checkpoint.json no longer verifies: ", previous.status().message()));
    }
    result.previous = *previous;
    if (current->size < previous->size) {
      return evidence(current->note,
                      absl::StrCat("the log shrank from ", previous->size,
                                   " to ", current->size, " entries"));
    }
    if (previous->size > 0) {
      absl::StatusOr<VerifiedConsistency> consistency =
          Consistency(*verifier, previous->size, current->size);
      if (!consistency.ok()) {
        if (absl::IsDataLoss(consistency.status())) {
          return evidence(current->note,
                          std::string(consistency.status().message()));
        }
        return consistency.status();
      }
      if (consistency->root1 != previous->root_hash ||
          consistency->root2 != current->root_hash) {
        return evidence(current->note, "the proof is for other roots");
      }
    }
  }
  if (absl::Status s = SaveCheckpointTrust(
          profile_, CheckpointTrust{FormatVerifierKey(verifier->name,
                                               verifier->public_key)
                                 .value_or(""),
                             current->note});
      !s.ok()) {
    return s;
  }
  return result;
}

absl::StatusOr<VerifiedInclusion> LogClient::Inclusion(
    const NoteVerifier& verifier, uint64_t index, uint64_t size) {
  auto api = v1::Log::NewStub(session_.channel());
  v1::GetInclusionProofRequest request;
  request.set_index(index);
  request.set_tree_size(size);
  v1::InclusionProof response;
  if (absl::Status s = Call([&](grpc::ClientContext* context) {
        return api->GetInclusionProof(context, request, &response);
      });
      !s.ok()) {
    return s;
  }
  absl::StatusOr<SignedCheckpoint> checkpoint = VerifyCheckpointNote(
      response.checkpoint().note(), verifier, verifier.name);
  if (!checkpoint.ok()) {
    return absl::DataLossError(absl::StrCat(
        "the proof's checkpoint does not verify: ",
        checkpoint.status().message()));
  }
  if (checkpoint->size != response.tree_size()) {
    return absl::DataLossError("the proof's checkpoint is for another size");
  }
  VerifiedInclusion out;
  out.index = response.index();
  out.size = response.tree_size();
  out.leaf = response.leaf();
  if (out.leaf.empty()) {
    // Withheld from this member (PROTOCOL.md 11.13): inclusion by hash only.
    if (response.leaf_hash().size() != 32) {
      return absl::DataLossError(absl::StrCat(
          "the server sent neither the entry nor its leaf hash for index ",
          index));
    }
    out.leaf_hash = response.leaf_hash();
  } else {
    out.leaf_hash = LeafHash(response.leaf());
  }
  out.proof = ToVector(response.hashes());
  out.checkpoint = *checkpoint;
  out.tlog_proof = response.tlog_proof();
  if (out.index != index) {
    return absl::DataLossError("the server answered for another index");
  }
  if (absl::Status s = VerifyInclusion(out.index, out.size, out.leaf_hash,
                                       out.proof, checkpoint->root_hash);
      !s.ok()) {
    return absl::DataLossError(absl::StrCat(
        "inclusion proof for index ", index, " does not verify: ",
        s.message()));
  }
  if (!out.tlog_proof.empty() && !out.leaf.empty()) {
    if (absl::StatusOr<SignedCheckpoint> offline =
            VerifyTlogProof(out.tlog_proof, out.leaf, verifier, verifier.name);
        !offline.ok()) {
      return absl::DataLossError(absl::StrCat(
          "the tlog-proof text does not verify: ",
          offline.status().message()));
    }
  }
  return out;
}

absl::StatusOr<VerifiedConsistency> LogClient::Consistency(
    const NoteVerifier& verifier, uint64_t size1, uint64_t size2) {
  auto api = v1::Log::NewStub(session_.channel());
  v1::GetConsistencyProofRequest request;
  request.set_size1(size1);
  request.set_size2(size2);
  v1::ConsistencyProof response;
  if (absl::Status s = Call([&](grpc::ClientContext* context) {
        return api->GetConsistencyProof(context, request, &response);
      });
      !s.ok()) {
    return s;
  }
  VerifiedConsistency out;
  out.size1 = response.size1();
  out.size2 = response.size2();
  out.root1 = response.root1();
  out.root2 = response.root2();
  out.proof = ToVector(response.hashes());
  // The roots must be those of signed checkpoints of these sizes; the
  // caller compares them with checkpoints it verified. Check the proof.
  if (absl::Status s = VerifyConsistency(out.size1, out.size2, out.root1,
                                         out.root2, out.proof);
      !s.ok()) {
    return absl::DataLossError(
        absl::StrCat("consistency proof from ", size1, " to ", out.size2,
                     " does not verify: ", s.message()));
  }
  (void)verifier;
  return out;
}

absl::StatusOr<SignedCheckpoint> LogClient::Audit(
    const NoteVerifier& verifier, uint64_t from,
    const std::function<void(uint64_t, uint64_t)>& progress) {
  absl::StatusOr<SignedCheckpoint> checkpoint = Checkpoint(verifier, true);
  if (!checkpoint.ok()) return checkpoint.status();
  const uint64_t size = checkpoint->size;
  if (size == 0) return checkpoint;
  if (from >= size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--from ", from, " is beyond the tree size ", size));
  }
  std::vector<std::string> prefix_proof;
  if (from > 0) {
    absl::StatusOr<VerifiedInclusion> inclusion =
        Inclusion(verifier, from, size);
    if (!inclusion.ok()) return inclusion.status();
    prefix_proof = inclusion->proof;
  }
  auto api = v1::Log::NewStub(session_.channel());
  std::vector<std::string> leaf_hashes;
  leaf_hashes.reserve(size - from);
  uint64_t next = from;
  while (next < size) {
    v1::GetEntriesRequest request;
    request.set_start(next);
    request.set_end(size);
    v1::GetEntriesResponse response;
    if (absl::Status s = Call([&](grpc::ClientContext* context) {
          return api->GetEntries(context, request, &response);
        });
        !s.ok()) {
      return s;
    }
    if (response.entries_size() == 0) {
      return absl::DataLossError(
          absl::StrCat("the server returned no entries at index ", next));
    }
    for (const v1::LogEntry& entry : response.entries()) {
      if (entry.index() != next) {
        return absl::DataLossError(absl::StrCat(
            "entry ", next, " is missing (server sent index ", entry.index(),
            ")"));
      }
      // A withheld entry (PROTOCOL.md 11.13) counts by its leaf hash; a
      // served one by the hash of its bytes, which must agree.
      if (entry.data().empty()) {
        if (entry.leaf_hash().size() != 32) {
          return absl::DataLossError(absl::StrCat(
              "entry ", next, " came with neither bytes nor a leaf hash"));
        }
        leaf_hashes.push_back(entry.leaf_hash());
      } else {
        leaf_hashes.push_back(LeafHash(entry.data()));
        if (!entry.leaf_hash().empty() &&
            entry.leaf_hash() != leaf_hashes.back()) {
          return absl::DataLossError(absl::StrCat(
              "entry ", next, " does not match the leaf hash sent with it"));
        }
      }
      ++next;
      if (next == size) break;
    }
    if (progress) progress(next - from, size - from);
  }
  absl::StatusOr<std::string> root =
      RootFromPrefixProofAndLeaves(from, size, prefix_proof, leaf_hashes);
  if (!root.ok()) return root.status();
  if (*root == checkpoint->root_hash) return checkpoint;
  // Find the first bad index: compare each leaf with its inclusion proof
  // (binary search over prefixes would need per-size roots; proofs are
  // exact and bounded by one RPC per probe).
  for (uint64_t i = from; i < size; ++i) {
    absl::StatusOr<VerifiedInclusion> inclusion = Inclusion(verifier, i, size);
    if (!inclusion.ok() || inclusion->leaf_hash != leaf_hashes[i - from]) {
      return absl::DataLossError(absl::StrCat(
          "audit failed: entry ", i,
          " served by GetEntries does not match the signed tree"));
    }
  }
  return absl::DataLossError(
      "audit failed: the recomputed root differs from the signed checkpoint");
}

}  // namespace parley
