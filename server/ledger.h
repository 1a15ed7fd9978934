#ifndef PARLEY_SERVER_LEDGER_H_
#define PARLEY_SERVER_LEDGER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "crypto/clock.h"
#include "server/server_state.h"
#include "storage/log_store.h"
#include "storage/tlog/log_entry.h"

namespace parley {

// What a member's inbox index records about an entry addressed to it.
// Values match parley.v1.Delivery.Kind.
enum class DeliveryKind : uint8_t {
  kEnvelope = 1,
  kReceipt = 2,
  kChannel = 3,
  kNotification = 5,
  kNotificationAck = 6,
  kEscalation = 7,
};

// Derived index column families. Each is a pure function of the log (see
// Ledger::Commit), written in the same atomic batch as the entry that implies
// it; Ledger::ReplayIndexPuts recomputes them from the log alone (`parleyd
// check` compares, `parleyd repair --rebuild-indexes` rewrites). Keys and values are documented in docs/ARCHITECTURE.md ("Indexes").
namespace index_cf {
inline constexpr char kInbox[] = "inbox";        // name 0x00 u64be(i) -> kind
inline constexpr char kEnvelope[] = "envelope";  // u64be(i) -> record
inline constexpr char kMessageId[] = "msgid";    // key(32) cmid(16) -> hash u64
inline constexpr char kChain[] = "chain";        // sender 0x00 channel -> seq hash
inline constexpr char kReceipt[] = "receipt";    // u64be(i) name 0x00 level -> u64
}  // namespace index_cf

// The index column families the server opens the log with.
std::vector<std::string> LedgerIndexFamilies();

// What the envelope index holds for each logged envelope.
struct EnvelopeRecord {
  std::string channel;
  std::string sender;
  std::string hash;  // EnvelopeHash
  std::vector<std::string> recipients;  // member names
};
std::string EncodeEnvelopeRecord(const EnvelopeRecord& record);
absl::StatusOr<EnvelopeRecord> DecodeEnvelopeRecord(std::string_view bytes);

std::string InboxKey(const std::string& name, uint64_t index);

// Facts about an envelope that the service already established while
// validating it (saves parsing and verifying it twice).
struct EnvelopeFacts {
  std::string hash;
  std::string sender_identity;
  std::string client_message_id;
  uint64_t sequence = 0;
  std::vector<std::string> recipient_names;
};

// The server's write path: every state change is encoded as a log entry,
// appended durably together with the index writes it implies (derived here,
// from the entry and the state before it, and nowhere else), applied to the
// in-memory state, and announced to the subscribers of the members it
// concerns. Thread-safe; callers serialise conflicting changes themselves
// (per sender, per channel, per registry) before Commit.
class Ledger {
 public:
  // Replays every logged entry into a fresh ServerState. `log` and `clock`
  // are not owned and must outlive the ledger.
  static absl::StatusOr<std::unique_ptr<Ledger>> Open(LogStore* log,
                                                      const Clock* clock);

  // Appends `body` (stamped with the clock's time) and its index writes in
  // one synced batch; then applies it and notifies the members whose inbox
  // it enters. `facts` is required for an EnvelopeEntry. Returns the index.
  absl::StatusOr<uint64_t> Commit(EntryBody body,
                                  const EnvelopeFacts* facts = nullptr);

  // One entry of CommitMany. `facts` as for Commit; not owned.
  struct Pending {
    EntryBody body;
    const EnvelopeFacts* facts = nullptr;
  };
  // Appends `entries` at consecutive indexes in one synced batch (all or
  // none), then applies and announces each in order, as Commit does.
  // Returns the first index. Every entry's index writes and audience are
  // planned against the state before the batch, so no entry may depend on
  // another's effect on the state: only envelopes (EnvelopeEntry) and
  // receipts are accepted (InternalError otherwise). REQUIRES: non-empty.
  absl::StatusOr<uint64_t> CommitMany(std::vector<Pending> entries);

  // Called after each commit with the members it concerns. One listener.
  void SetListener(
      std::function<void(const std::vector<std::string>&, uint64_t)> listener);

  const ServerState& state() const { return state_; }
  LogStore& log() { return *log_; }
  const Clock& clock() const { return *clock_; }

  // The envelope index's record for the envelope (or notification version)
  // logged at `index`; nullopt if there is none. DataLoss if the stored
  // record cannot be read or decoded (the index is damaged: run
  // `parleyd check`), Internal or Unavailable for other read errors.
  absl::StatusOr<std::optional<EnvelopeRecord>> LookupEnvelope(
      uint64_t index) const;

  // The index writes each logged entry implies, recomputed from the log
  // alone: replays every entry [0, log->Size()) into a fresh state through
  // the same planning Commit uses (never reading a stored index), and calls
  // `visit(index, puts)` for each entry in order. Puts of later entries
  // overwrite earlier ones with the same key (the chain index). Returns the
  // first error: DataLoss for an entry that does not verify against the
  // tree or does not decode, or whatever `visit` returns. Used by
  // `parleyd check` and `parleyd repair --rebuild-indexes`.
  static absl::Status ReplayIndexPuts(
      LogStore* log, const Clock* clock,
      const std::function<absl::Status(uint64_t index,
                                       std::vector<IndexPut> puts)>& visit);

  // Serialises the calls that log an envelope under one client message id
  // (sender identity + client_message_id, the key of the message-id index):
  // held from the index lookup to the commit, so two envelopes sent at once
  // under one id cannot both be logged. Striped; taken last, after any
  // per-sender or per-notification lock, and never held while taking one.
  // A call may hold several stripes (Channels/SendBatch): it takes them in
  // address order, so two such calls cannot wait on each other.
  absl::Mutex& ClientMessageIdLock(std::string_view message_id);

 private:
  Ledger(LogStore* log, const Clock* clock) : log_(log), clock_(clock) {}

  // The index writes an entry implies, computed before the append (lookups
  // happen here) and completed with the index inside it (pure).
  struct IndexPlan {
    std::vector<std::pair<std::string, DeliveryKind>> inbox;
    std::function<void(uint64_t, std::vector<IndexPut>*)> extra;
    // Appends the puts for the entry at `index`: pure (runs inside the
    // log's commit, possibly on another appender's thread).
    void AddPuts(uint64_t index, std::vector<IndexPut>* puts) const;
  };
  // DataLoss or Internal if a lookup it needs cannot be read.
  absl::StatusOr<IndexPlan> PlanIndexes(const LogEntry& entry,
                                        const EnvelopeFacts* facts) const;
  // The (channel, sender) of the envelope at `index`, from the envelope
  // index (live) or from the log entry itself (replay); nullopt if none.
  absl::StatusOr<std::optional<std::pair<std::string, std::string>>>
  EnvelopeOrigin(uint64_t index, uint64_t before) const;
  // Replay: the facts the service established for a logged envelope or
  // notification version, recomputed from the entry and the state before it.
  absl::StatusOr<EnvelopeFacts> FactsFromLog(const LogEntry& entry) const;

  // Commit and CommitMany: stamps, encodes and plans every entry, appends
  // them in one synced batch, then publishes each.
  absl::StatusOr<uint64_t> Append(std::vector<Pending> pending);
  // After the append: applies `entry` to the state and announces it.
  void Publish(uint64_t index, const LogEntry& entry, const IndexPlan& plan);

  LogStore* const log_;
  const Clock* const clock_;
  // Set only by ReplayIndexPuts: lookups read the log, never an index.
  bool replaying_ = false;
  ServerState state_;
  static constexpr size_t kMessageIdStripes = 1024;
  absl::Mutex message_id_locks_[kMessageIdStripes];
  absl::Mutex listener_mu_;
  std::function<void(const std::vector<std::string>&, uint64_t)> listener_
      ABSL_GUARDED_BY(listener_mu_);
};

}  // namespace parley

#endif  // PARLEY_SERVER_LEDGER_H_
