#include "client/core/log_client.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/core/retry.h"
#include "crypto/file_util.h"
#include "nlohmann/json.hpp"
#include "parley/v1/log.grpc.pb.h"
#include "storage/tlog/merkle.h"

namespace parley {
namespace {

constexpr char kTrustFile[] = "checkpoint.json";
// Inclusion proofs fetched at once by DeviceLog::ProveEntries.
constexpr int kProofFetchThreads = 8;

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
          Consistency(previous->size, current->size);
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

absl::StatusOr<VerifiedConsistency> LogClient::Consistency(uint64_t size1,
                                                           uint64_t size2) {
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
  return out;
}

absl::Status LogClient::CheckConsistent(const SignedCheckpoint& trusted,
                                        const SignedCheckpoint& offered) {
  if (offered.size == trusted.size) {
    if (offered.root_hash != trusted.root_hash) {
      return absl::DataLossError(absl::StrCat(
          "the log presented two different roots for size ", trusted.size,
          ": the server forked or rewrote its log"));
    }
    return absl::OkStatus();
  }
  if (trusted.size == 0 || offered.size == 0) return absl::OkStatus();
  const bool grows = offered.size > trusted.size;
  const SignedCheckpoint& older = grows ? trusted : offered;
  const SignedCheckpoint& newer = grows ? offered : trusted;
  absl::StatusOr<VerifiedConsistency> proof =
      Consistency(older.size, newer.size);
  if (!proof.ok() && !absl::IsDataLoss(proof.status())) return proof.status();
  if (!proof.ok() || proof->size1 != older.size ||
      proof->size2 != newer.size || proof->root1 != older.root_hash ||
      proof->root2 != newer.root_hash) {
    return absl::DataLossError(absl::StrCat(
        "the log checkpoint of size ", offered.size,
        " is not consistent with the one this profile trusted (size ",
        trusted.size, "): ",
        proof.ok() ? "the proof is for other roots"
                   : proof.status().message()));
  }
  return absl::OkStatus();
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

// ---------------------------------------------------------------------------
// DeviceLog

absl::Status DeviceLog::NoteCheckpoint(const SignedCheckpoint& checkpoint,
                                       const std::string& note) {
  // Read each time: `parley log verify` may have advanced it meanwhile.
  absl::StatusOr<std::optional<CheckpointTrust>> record =
      LoadCheckpointTrust(profile_);
  if (!record.ok()) return record.status();
  const std::string path = absl::StrCat(profile_.dir(), "/checkpoint.json");
  // Every checkpoint trusted so far: the record's, and the one an older
  // client kept in state.bin (until it is migrated below).
  std::vector<SignedCheckpoint> trusted;
  if (record->has_value()) {
    if ((*record)->verifier_key != verifier_key_) {
      return absl::DataLossError(absl::StrCat(
          path, " trusts the log key ", (*record)->verifier_key,
          " but this device was enrolled with ", verifier_key_,
          "; it belongs to another log: remove it to trust this server's "
          "log afresh"));
    }
    if (!(*record)->checkpoint_note.empty()) {
      absl::StatusOr<SignedCheckpoint> recorded = VerifyCheckpointNote(
          (*record)->checkpoint_note, trust_.verifier, trust_.origin);
      if (!recorded.ok()) {
        return absl::DataLossError(absl::StrCat(
            "the trusted checkpoint in ", path, " no longer verifies: ",
            recorded.status().message()));
      }
      trusted.push_back(*std::move(recorded));
    }
  }
  const bool legacy = state_.trusted_size() > 0;
  if (legacy) {
    SignedCheckpoint old;
    old.size = state_.trusted_size();
    old.root_hash = state_.trusted_root();
    trusted.push_back(std::move(old));
  }
  uint64_t newest = 0;
  for (const SignedCheckpoint& t : trusted) {
    if (absl::Status s = client_.CheckConsistent(t, checkpoint); !s.ok()) return s;
    newest = std::max(newest, t.size);
  }
  // Only forward: a smaller checkpoint is checked, never recorded.
  if (checkpoint.size < newest) return absl::OkStatus();
  const bool recorded_newest = record->has_value() &&
                               !(*record)->checkpoint_note.empty() &&
                               trusted.front().size == checkpoint.size;
  if (!recorded_newest) {
    if (absl::Status s = SaveCheckpointTrust(
            profile_, CheckpointTrust{verifier_key_, note});
        !s.ok()) {
      return s;
    }
  }
  // The record now covers what state.bin held (checked consistent above).
  if (legacy) return state_.SetTrustedCheckpoint(0, "");
  return absl::OkStatus();
}

absl::StatusOr<std::string> DeviceLog::FetchEntry(uint64_t index) {
  auto api = v1::Log::NewStub(session_.channel());
  v1::GetInclusionProofRequest request;
  request.set_index(index);
  v1::InclusionProof proof;
  absl::Status s = auth_.Call([&](grpc::ClientContext* c) {
    return api->GetInclusionProof(c, request, &proof);
  });
  if (!s.ok() && !IsTransient(s) && !absl::IsPermissionDenied(s) &&
      !absl::IsUnauthenticated(s)) {
    // Probably newer than the latest checkpoint: ask for a fresh one.
    if (!GetCheckpoint(/*fresh=*/true, nullptr).ok()) return s;
    s = auth_.Call([&](grpc::ClientContext* c) {
      return api->GetInclusionProof(c, request, &proof);
    });
  }
  if (!s.ok()) return s;
  absl::StatusOr<SignedCheckpoint> checkpoint =
      VerifyEntryInclusion(proof.leaf(), proof, trust_);
  if (!checkpoint.ok()) return checkpoint.status();
  if (proof.index() != index) {
    return absl::DataLossError(absl::StrCat("asked for log entry ", index,
                                            ", got a proof for ",
                                            proof.index()));
  }
  if (absl::Status n = NoteCheckpoint(*checkpoint, proof.checkpoint().note());
      !n.ok()) {
    return n;
  }
  return proof.leaf();
}

absl::StatusOr<std::map<uint64_t, std::string>> DeviceLog::FetchVerifiedEntries(
    const std::vector<uint64_t>& indexes) {
  std::map<uint64_t, std::string> out;
  std::vector<uint64_t> missing;
  for (uint64_t index : indexes) {
    if (out.contains(index)) continue;
    absl::StatusOr<std::optional<std::string>> cached =
        state_.VerifiedEntry(index);
    if (!cached.ok()) return cached.status();
    if (cached->has_value()) {
      out[index] = **std::move(cached);
    } else if (std::find(missing.begin(), missing.end(), index) ==
               missing.end()) {
      missing.push_back(index);
    }
  }
  if (missing.empty()) return out;

  // One checkpoint for every proof: verified once, consistent with the
  // trusted one, and reused while it covers what is asked.
  const uint64_t highest = *std::max_element(missing.begin(), missing.end());
  for (bool fresh : {false, true}) {
    if (proof_checkpoint_.has_value() && proof_checkpoint_->size > highest) {
      break;
    }
    absl::StatusOr<SignedCheckpoint> verified = GetCheckpoint(fresh, nullptr);
    if (!verified.ok()) return verified.status();
    proof_checkpoint_ = *std::move(verified);
  }
  if (proof_checkpoint_->size <= highest) {
    return absl::NotFoundError(absl::StrCat(
        "log entry ", highest, " is beyond the log's size ",
        proof_checkpoint_->size));
  }
  absl::StatusOr<std::map<uint64_t, ProvenEntry>> proven =
      ProveEntries(missing, *proof_checkpoint_, "");
  if (!proven.ok()) return proven.status();
  std::vector<std::pair<uint64_t, std::string>> verified;
  for (auto& [index, entry] : *proven) {
    verified.emplace_back(index, entry.leaf);
    out[index] = std::move(entry.leaf);
  }
  if (absl::Status s = state_.AddVerifiedEntries(verified); !s.ok()) return s;
  return out;
}

absl::StatusOr<std::map<uint64_t, ProvenEntry>> DeviceLog::ProveEntries(
    const std::vector<uint64_t>& indexes, const SignedCheckpoint& checkpoint,
    const std::string& checkpoint_note) {
  // Proofs in parallel (one HTTP/2 connection, several calls in flight);
  // each checked against the checkpoint's root.
  auto log = v1::Log::NewStub(session_.channel());
  std::vector<ProvenEntry> proven(indexes.size());
  std::vector<absl::Status> errors(indexes.size());
  std::atomic<size_t> next{0};
  std::atomic<size_t> finished{0};
  // `reporter`: the calling thread, the only one that reports progress.
  auto worker = [&](bool reporter) {
    for (size_t i = next++; i < indexes.size(); i = next++) {
      if (reporter && progress_) {
        progress_(finished.load(), indexes.size());
      }
      const uint64_t index = indexes[i];
      v1::GetInclusionProofRequest request;
      request.set_index(index);
      request.set_tree_size(checkpoint.size);
      v1::InclusionProof proof;
      absl::Status s = auth_.Call([&](grpc::ClientContext* c) {
        return log->GetInclusionProof(c, request, &proof);
      });
      if (!s.ok()) {
        errors[i] = s;
        continue;
      }
      if (proof.index() != index || proof.tree_size() != checkpoint.size) {
        errors[i] = absl::DataLossError(absl::StrCat(
            "asked for a proof of log entry ", index, " in the tree of size ",
            checkpoint.size, ", got one of entry ", proof.index(),
            " in size ", proof.tree_size()));
        continue;
      }
      if (proof.leaf().empty()) {
        // Every entry asked for here is one the server listed as this
        // member's to read.
        errors[i] = absl::DataLossError(absl::StrCat(
            "the server withheld the bytes of log entry ", index,
            " from this member, although it listed the entry as one of "
            "this member's"));
        continue;
      }
      std::vector<std::string> hashes(proof.hashes().begin(),
                                      proof.hashes().end());
      if (absl::Status v =
              VerifyInclusion(index, checkpoint.size, LeafHash(proof.leaf()),
                              hashes, checkpoint.root_hash);
          !v.ok()) {
        errors[i] = absl::DataLossError(absl::StrCat(
            "log entry ", index, " is not proven to be in the log: ",
            v.message()));
        continue;
      }
      if (!checkpoint_note.empty() &&
          (proof.checkpoint().note() != checkpoint_note ||
           proof.tlog_proof().empty())) {
        errors[i] = absl::DataLossError(absl::StrCat(
            "the server proved entry ", index,
            " against another checkpoint than the one asked for"));
        continue;
      }
      proven[i] = ProvenEntry{proof.leaf(), proof.tlog_proof()};
      ++finished;
    }
  };
  const size_t threads = std::min<size_t>(kProofFetchThreads, indexes.size());
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(worker, false);
  worker(true);
  for (std::thread& t : pool) t.join();
  if (progress_ && !indexes.empty()) {
    progress_(finished.load(), indexes.size());
  }
  std::map<uint64_t, ProvenEntry> out;
  for (size_t i = 0; i < indexes.size(); ++i) {
    if (!errors[i].ok()) return errors[i];
    out[indexes[i]] = std::move(proven[i]);
  }
  return out;
}

absl::StatusOr<SignedCheckpoint> DeviceLog::NoteCheckpointText(
    const std::string& note) {
  absl::StatusOr<SignedCheckpoint> checkpoint =
      VerifyCheckpointNote(note, trust_.verifier, trust_.origin);
  if (!checkpoint.ok()) {
    return absl::DataLossError(absl::StrCat(
        "the server's checkpoint does not verify under the pinned key: ",
        checkpoint.status().message()));
  }
  if (absl::Status n = NoteCheckpoint(*checkpoint, note); !n.ok()) return n;
  return checkpoint;
}

absl::StatusOr<SignedCheckpoint> DeviceLog::GetCheckpoint(bool fresh,
                                                          std::string* note) {
  auto api = v1::Log::NewStub(session_.channel());
  v1::GetCheckpointRequest request;
  request.set_fresh(fresh);
  v1::Checkpoint checkpoint;
  if (absl::Status s = auth_.Call([&](grpc::ClientContext* c) {
        return api->GetCheckpoint(c, request, &checkpoint);
      });
      !s.ok()) {
    return s;
  }
  absl::StatusOr<SignedCheckpoint> verified =
      NoteCheckpointText(checkpoint.note());
  if (verified.ok() && note != nullptr) *note = checkpoint.note();
  return verified;
}

absl::StatusOr<SignedCheckpoint> DeviceLog::FreshCheckpoint(
    std::string* note) {
  return GetCheckpoint(/*fresh=*/true, note);
}

}  // namespace parley
