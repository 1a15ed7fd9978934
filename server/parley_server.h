#ifndef PARLEY_SERVER_PARLEY_SERVER_H_
#define PARLEY_SERVER_PARLEY_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "crypto/clock.h"
#include "server/config.h"

namespace parley {

// A running parleyd: the data directory, the log, and the gRPC server (TLS,
// health checking, reflection, parley.v1 services). Thread-safe.
class ParleyServer {
 public:
  // Opens the data directory named by `config`, opens the log (refusing a
  // corrupted or forked one), and starts listening. `clock` must outlive the
  // server. Errors say what to do: NotFound (no data directory: run init),
  // PermissionDenied (not writable), FailedPrecondition (another server's
  // files), DataLoss (corruption), Unavailable (address in use).
  static absl::StatusOr<std::unique_ptr<ParleyServer>> Start(
      const ServerConfig& config, Clock& clock);

  virtual ~ParleyServer() = default;

  // The port actually bound (useful with port 0).
  virtual int port() const = 0;
  virtual const std::string& ca_fingerprint() const = 0;
  virtual const std::string& origin() const = 0;
  // Logs the escalation steps due at the clock's time (the server also does
  // this once a second unless config.run_deadline_watcher is false).
  virtual absl::StatusOr<int> RunDueDeadlines() = 0;

  // Graceful stop: refuse new calls, end open streams, let in-flight unary
  // calls finish (up to the configured grace), then close the log cleanly.
  // Idempotent.
  virtual void Shutdown() = 0;
};

// The parleyd version string.
const char* ParleydVersion();

}  // namespace parley

#endif  // PARLEY_SERVER_PARLEY_SERVER_H_
