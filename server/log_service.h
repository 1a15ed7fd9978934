#ifndef PARLEY_SERVER_LOG_SERVICE_H_
#define PARLEY_SERVER_LOG_SERVICE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "parley/v1/log.grpc.pb.h"
#include "server/checkpoint_watch.h"
#include "server/refusal_pacer.h"
#include "storage/log_store.h"

namespace parley {

// Which entries the caller may read in full (index, entry bytes); null for
// every entry. For the others the service sends the leaf hash only.
using EntryFilter = std::function<bool(uint64_t index, std::string_view entry)>;

class WorkPool;

struct LogServiceOptions {
  // Decides whether the caller may read entries and proofs (GetEntries,
  // GetInclusionProof; consistency proofs and checkpoints are public), and
  // which entries in full: the log holds metadata. Returns the filter to
  // apply, or the status to send (e.g. Unauthenticated). Unset: everyone
  // reads everything (tests of the log alone).
  // It may refuse for the caller's rate limit (ResourceExhausted, after
  // adding the trailing metadata "retry-after-ms").
  std::function<absl::StatusOr<EntryFilter>(grpc::CallbackServerContext*)>
      authorize_private_read;
  // Admits a call that needs no session (GetCheckpoint, GetConsistencyProof,
  // WatchCheckpoints): rate limits per peer address. Unset: all admitted.
  std::function<absl::Status(grpc::CallbackServerContext*)> admit_public;
  // Counts a new WatchCheckpoints stream against the stream limits: returns
  // what to run when it ends, or the refusal. Unset: no limit.
  std::function<absl::StatusOr<std::function<void()>>(
      grpc::CallbackServerContext*)>
      open_watch;
  // Upper bound on the entry bytes of one GetEntries page.
  size_t max_page_bytes = 1 << 20;
  // How often a WatchCheckpoints stream re-checks for cancellation while it
  // waits for the next checkpoint.
  absl::Duration watch_poll = absl::Milliseconds(250);
  // If set (not owned), GetCheckpoint with `fresh` (which signs and syncs
  // twice: the stored checkpoint and its witness file) runs here instead of
  // on a gRPC thread.
  WorkPool* pool = nullptr;
  // Charges the caller of a GetEntries page for the entry bytes the server
  // read and verified for it, withheld ones included (rate limits by cost,
  // not by call). Unset: nothing charged.
  std::function<void(grpc::CallbackServerContext*, size_t bytes)> charge_read;
  // If set (not owned), refusals by a limit are answered through it.
  RefusalPacer* pacer = nullptr;
};

// parley.v1.Log over a LogStore. Thread-safe.
//
// Errors: index or size beyond the tree -> OUT_OF_RANGE with a message that
// names both ("index 12 is beyond the tree size 10"); malformed ranges ->
// INVALID_ARGUMENT; a damaged store -> DATA_LOSS. When a request leaves the
// tree size at 0 ("latest"), the latest *signed checkpoint's* size is used,
// so every proof is against a root a client can verify.
//
// WatchCheckpoints streams are all served by one CheckpointBroadcaster
// thread (server/checkpoint_watch.h), whatever their number; a stream ends
// within `watch_poll` of cancellation.
class LogService final : public v1::Log::CallbackService {
 public:
  // `log` is not owned and must outlive the service and every open stream
  // (shut the gRPC server down before destroying the log).
  explicit LogService(LogStore* log, LogServiceOptions options = {});
  ~LogService() override;

  // Ends every WatchCheckpoints stream (UNAVAILABLE) and waits up to 5 s for
  // them to be released. Call before shutting the gRPC server down.
  void Shutdown();
  size_t open_watch_streams() const { return broadcaster_.open_streams(); }

  grpc::ServerUnaryReactor* GetCheckpoint(
      grpc::CallbackServerContext* context,
      const v1::GetCheckpointRequest* request,
      v1::Checkpoint* response) override;
  grpc::ServerUnaryReactor* GetInclusionProof(
      grpc::CallbackServerContext* context,
      const v1::GetInclusionProofRequest* request,
      v1::InclusionProof* response) override;
  grpc::ServerUnaryReactor* GetConsistencyProof(
      grpc::CallbackServerContext* context,
      const v1::GetConsistencyProofRequest* request,
      v1::ConsistencyProof* response) override;
  grpc::ServerUnaryReactor* GetEntries(
      grpc::CallbackServerContext* context,
      const v1::GetEntriesRequest* request,
      v1::GetEntriesResponse* response) override;
  grpc::ServerWriteReactor<v1::Checkpoint>* WatchCheckpoints(
      grpc::CallbackServerContext* context,
      const v1::WatchCheckpointsRequest* request) override;

 private:
  absl::StatusOr<EntryFilter> Authorize(
      grpc::CallbackServerContext* context) const;
  absl::Status AdmitPublic(grpc::CallbackServerContext* context) const;
  void FillCheckpoint(const SignedCheckpoint& cp, v1::Checkpoint* out) const;
  absl::Status InclusionProof(const v1::GetInclusionProofRequest& request,
                              const EntryFilter& filter,
                              v1::InclusionProof* response) const;
  absl::Status ConsistencyProof(const v1::GetConsistencyProofRequest& request,
                                v1::ConsistencyProof* response) const;
  // Sets *bytes_read to the entry bytes read and verified, sent in full
  // or not (what the page cost).
  absl::Status Entries(const v1::GetEntriesRequest& request,
                       const EntryFilter& filter,
                       v1::GetEntriesResponse* response,
                       size_t* bytes_read) const;

  LogStore* const log_;
  const LogServiceOptions options_;
  CheckpointBroadcaster broadcaster_;
};

}  // namespace parley

#endif  // PARLEY_SERVER_LOG_SERVICE_H_
