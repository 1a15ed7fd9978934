#include "server/log_service.h"

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "server/status_util.h"
#include "server/work_pool.h"
#include "storage/tlog/checkpoint.h"
#include "storage/tlog/merkle.h"

namespace parley {
namespace {

grpc::ServerUnaryReactor* FinishWith(grpc::CallbackServerContext* context,
                                     const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

}  // namespace

LogService::LogService(LogStore* log, LogServiceOptions options)
    : log_(log),
      options_(std::move(options)),
      broadcaster_(log, options_.watch_poll,
                   [this](const SignedCheckpoint& cp, v1::Checkpoint* out) {
                     FillCheckpoint(cp, out);
                   }) {}

LogService::~LogService() = default;

void LogService::Shutdown() { broadcaster_.Shutdown(); }

absl::StatusOr<EntryFilter> LogService::Authorize(
    grpc::CallbackServerContext* context) const {
  if (!options_.authorize_private_read) return EntryFilter();
  return options_.authorize_private_read(context);
}

absl::Status LogService::AdmitPublic(
    grpc::CallbackServerContext* context) const {
  if (!options_.admit_public) return absl::OkStatus();
  return options_.admit_public(context);
}

void LogService::FillCheckpoint(const SignedCheckpoint& cp,
                                v1::Checkpoint* out) const {
  out->set_origin(cp.origin);
  out->set_size(cp.size);
  out->set_root_hash(cp.root_hash);
  out->set_note(cp.note);
  out->set_verifier_key(log_->VerifierKey());
}

grpc::ServerUnaryReactor* LogService::GetCheckpoint(
    grpc::CallbackServerContext* context,
    const v1::GetCheckpointRequest* request, v1::Checkpoint* response) {
  if (absl::Status s = AdmitPublic(context); !s.ok()) {
    return FinishPaced(options_.pacer, context, s);
  }
  if (request->fresh() && options_.pool != nullptr) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    options_.pool->Run([this, reactor, response] {
      absl::StatusOr<SignedCheckpoint> cp = log_->SignCheckpointNow();
      if (cp.ok()) FillCheckpoint(*cp, response);
      reactor->Finish(ToGrpcStatus(cp.status()));
    });
    return reactor;
  }
  absl::StatusOr<SignedCheckpoint> cp = request->fresh()
                                            ? log_->SignCheckpointNow()
                                            : log_->LatestCheckpoint();
  if (cp.ok()) FillCheckpoint(*cp, response);
  return FinishWith(context, cp.status());
}

absl::Status LogService::InclusionProof(
    const v1::GetInclusionProofRequest& request, const EntryFilter& filter,
    v1::InclusionProof* response) const {
  uint64_t size = request.tree_size();
  std::optional<SignedCheckpoint> checkpoint;
  if (size == 0) {
    absl::StatusOr<SignedCheckpoint> latest = log_->LatestCheckpoint();
    if (!latest.ok()) return latest.status();
    size = latest->size;
    checkpoint = *std::move(latest);
    if (request.index() >= size && request.index() < log_->Size()) {
      return absl::OutOfRangeError(absl::StrCat(
          "index ", request.index(), " is beyond the latest checkpoint size ",
          size, "; ask for a fresh checkpoint (GetCheckpoint fresh=true) or "
          "wait for the next one"));
    }
  }
  if (request.index() >= size) {
    return absl::OutOfRangeError(absl::StrCat(
        "index ", request.index(), " is beyond the tree size ", size));
  }
  absl::StatusOr<std::vector<std::string>> hashes =
      log_->InclusionProof(request.index(), size);
  if (!hashes.ok()) return hashes.status();
  absl::StatusOr<std::string> leaf = log_->GetEntry(request.index());
  if (!leaf.ok()) return leaf.status();
  if (!checkpoint.has_value()) {
    absl::StatusOr<SignedCheckpoint> at = log_->CheckpointAt(size);
    if (at.ok()) {
      checkpoint = *std::move(at);
    } else if (at.status().code() != absl::StatusCode::kNotFound) {
      return at.status();
    }
  }
  response->set_index(request.index());
  response->set_tree_size(size);
  response->set_leaf_hash(LeafHash(*leaf));
  if (!filter || filter(request.index(), *leaf)) {
    response->set_leaf(*std::move(leaf));
  }  // Else withheld: the hash proves inclusion, the bytes stay private.
  for (std::string& h : *hashes) response->add_hashes(std::move(h));
  if (checkpoint.has_value()) {
    FillCheckpoint(*checkpoint, response->mutable_checkpoint());
    TlogProof proof;
    proof.index = request.index();
    proof.hashes.assign(response->hashes().begin(), response->hashes().end());
    proof.checkpoint = checkpoint->note;
    response->set_tlog_proof(FormatTlogProof(proof));
  }
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* LogService::GetInclusionProof(
    grpc::CallbackServerContext* context,
    const v1::GetInclusionProofRequest* request,
    v1::InclusionProof* response) {
  absl::StatusOr<EntryFilter> filter = Authorize(context);
  if (!filter.ok()) {
    return FinishPaced(options_.pacer, context, filter.status());
  }
  return FinishWith(context, InclusionProof(*request, *filter, response));
}

absl::Status LogService::ConsistencyProof(
    const v1::GetConsistencyProofRequest& request,
    v1::ConsistencyProof* response) const {
  uint64_t size2 = request.size2();
  if (size2 == 0) {
    absl::StatusOr<SignedCheckpoint> latest = log_->LatestCheckpoint();
    if (!latest.ok()) return latest.status();
    size2 = latest->size;
  }
  if (request.size1() == 0 || request.size1() > size2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "no consistency proof from size ", request.size1(), " to size ",
        size2, " (need 0 < size1 <= size2)"));
  }
  absl::StatusOr<std::vector<std::string>> hashes =
      log_->ConsistencyProof(request.size1(), size2);
  if (!hashes.ok()) return hashes.status();
  absl::StatusOr<std::string> root1 = log_->RootHash(request.size1());
  if (!root1.ok()) return root1.status();
  absl::StatusOr<std::string> root2 = log_->RootHash(size2);
  if (!root2.ok()) return root2.status();
  response->set_size1(request.size1());
  response->set_size2(size2);
  response->set_root1(*std::move(root1));
  response->set_root2(*std::move(root2));
  for (std::string& h : *hashes) response->add_hashes(std::move(h));
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* LogService::GetConsistencyProof(
    grpc::CallbackServerContext* context,
    const v1::GetConsistencyProofRequest* request,
    v1::ConsistencyProof* response) {
  // Public: subtree hashes only, so witnesses and auditors can check any
  // checkpoint against the next. Rate limited like every public call.
  if (absl::Status s = AdmitPublic(context); !s.ok()) {
    return FinishPaced(options_.pacer, context, s);
  }
  return FinishWith(context, ConsistencyProof(*request, response));
}

absl::Status LogService::Entries(const v1::GetEntriesRequest& request,
                                 const EntryFilter& filter,
                                 v1::GetEntriesResponse* response,
                                 size_t* bytes_read) const {
  *bytes_read = 0;
  uint64_t size = log_->Size();
  uint64_t end = request.end() == 0 ? size : request.end();
  absl::StatusOr<std::vector<std::string>> entries =
      log_->GetEntries(request.start(), end, options_.max_page_bytes);
  if (!entries.ok()) return entries.status();
  uint64_t index = request.start();
  for (std::string& data : *entries) {
    *bytes_read += data.size();
    v1::LogEntry* e = response->add_entries();
    e->set_index(index);
    e->set_leaf_hash(LeafHash(data));
    if (!filter || filter(index, data)) e->set_data(std::move(data));
    ++index;
  }
  response->set_next_index(index);
  response->set_tree_size(std::max(size, log_->Size()));
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* LogService::GetEntries(
    grpc::CallbackServerContext* context,
    const v1::GetEntriesRequest* request, v1::GetEntriesResponse* response) {
  absl::StatusOr<EntryFilter> filter = Authorize(context);
  if (!filter.ok()) {
    return FinishPaced(options_.pacer, context, filter.status());
  }
  size_t bytes_read = 0;
  absl::Status status = Entries(*request, *filter, response, &bytes_read);
  if (status.ok() && options_.charge_read) {
    options_.charge_read(context, bytes_read);
  }
  return FinishWith(context, status);
}

grpc::ServerWriteReactor<v1::Checkpoint>* LogService::WatchCheckpoints(
    grpc::CallbackServerContext* context,
    const v1::WatchCheckpointsRequest* request) {
  using Refused = RefusedStream<v1::Checkpoint>;
  if (absl::Status s = AdmitPublic(context); !s.ok()) return new Refused(options_.pacer, s);
  std::function<void()> on_end;
  if (options_.open_watch) {
    absl::StatusOr<std::function<void()>> opened = options_.open_watch(context);
    if (!opened.ok()) return new Refused(options_.pacer, opened.status());
    on_end = *std::move(opened);
  }
  auto* watch = new CheckpointWatch(&broadcaster_, request->after_size(),
                                    std::move(on_end));
  broadcaster_.Add(watch);
  return watch;
}

}  // namespace parley
