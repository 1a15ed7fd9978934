#ifndef PARLEY_CLIENT_GUI_GUI_H_
#define PARLEY_CLIENT_GUI_GUI_H_

// `parley gui`: a local web UI that the client serves on loopback. The
// browser gets static files (gui_assets.cc) and a JSON API; keys,
// passphrase and the device stay in this process.
//
// GuiServer is the HTTP side and its security checks; GuiApi (gui_api.cc)
// is the JSON API over one Device. Every request passes, in this order:
//
//   1. Host must be 127.0.0.1:PORT or localhost:PORT       (else 403)
//      (a page on another site that rebinds its DNS name to 127.0.0.1
//      still sends its own name as Host);
//   2. Origin, if sent, must be http://127.0.0.1:PORT or
//      http://localhost:PORT; Sec-Fetch-Site, if sent, must not say
//      cross-site or same-site                               (else 403);
//   3. /api/...: "Authorization: Bearer TOKEN" with this run's token,
//      compared in constant time                              (else 401);
//   4. the path must exist (404) and take this method (405, with Allow);
//   5. POST: Content-Type application/json (415), a body of at most
//      Options::max_body_bytes (413), a JSON object (400).
//
// Only then does a handler run. Every response carries
// Content-Security-Policy (default-src 'self', no inline script),
// X-Content-Type-Options: nosniff, X-Frame-Options: DENY,
// Cache-Control: no-store and Referrer-Policy: no-referrer; none carries
// CORS headers. Errors are JSON: {"error": "...", "code": "..."}.

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client/core/device.h"
#include "crypto/random.h"
#include "nlohmann/json.hpp"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace parley {

// One API request that passed the checks above.
struct GuiRequest {
  nlohmann::json body = nlohmann::json::object();  // POST: the JSON object
  std::map<std::string, std::string> query;        // GET: ?name=value

  // The query parameter or body member `name` as a string; "" if absent.
  std::string Get(const std::string& name) const;
};

struct GuiReply {
  int status = 200;
  nlohmann::json body = nlohmann::json::object();
};

using GuiHandler = std::function<GuiReply(const GuiRequest&)>;

// {"error": message, "code": code} with HTTP `status`.
GuiReply GuiError(int status, const std::string& code,
                  const std::string& message);
// A failed Device call as an error reply: InvalidArgument 400, NotFound
// 404, PermissionDenied and Unauthenticated (the server refused) 403,
// FailedPrecondition, AlreadyExists and Unimplemented (work this client
// cannot redo) 409, Unavailable and
// DeadlineExceeded 503, DataLoss (verification failed) 502, others 500.
// The code is the lower-case status code name ("unavailable", ...).
GuiReply GuiErrorFor(const absl::Status& status);

// A static file of the UI.
struct GuiAsset {
  const char* path;          // "/", "/app.js", ...
  const char* content_type;  // with charset
  std::string_view body;
};
// Every static file (gui_assets.cc). No inline script: the page loads its
// script and style from these paths, so the CSP can forbid inline code.
const std::vector<GuiAsset>& GuiAssets();

// The HTTP server. Thread-safe after Bind: handlers run on the server's
// threads, concurrently.
class GuiServer {
 public:
  struct Options {
    // The only address accepted: the GUI is never reachable from the
    // network.
    std::string host = "127.0.0.1";
    int port = 0;  // 0: any free port
    size_t max_body_bytes = 64 * 1024;
    // Source of the session token (32 bytes).
    Random* random = &SystemRandom();
  };

  // Generates the token, binds `options.host:options.port` (without
  // SO_REUSEPORT: a second server cannot share the port) and registers
  // GuiAssets(). InvalidArgument if host is not 127.0.0.1 or the port is
  // out of range; Unavailable if the port cannot be bound.
  static absl::StatusOr<std::unique_ptr<GuiServer>> Bind(
      const Options& options);
  ~GuiServer();
  GuiServer(const GuiServer&) = delete;
  GuiServer& operator=(const GuiServer&) = delete;

  // Registers an API path ("/api/...", one method per path).
  // REQUIRES: before Serve.
  void HandleGet(const std::string& path, GuiHandler handler);
  void HandlePost(const std::string& path, GuiHandler handler);

  int port() const { return port_; }
  // 64 hex digits (256 bits). Never logged; the user gets it in url().
  const std::string& token() const { return token_; }
  // http://127.0.0.1:PORT/#token=TOKEN (the fragment never reaches a
  // server: the page reads it and sends it as a header).
  std::string url() const;

  // Serves until Stop (at once if Stop came first). Returns an error if
  // the server failed.
  absl::Status Serve();
  // Makes Serve return, and a later Serve return at once. Thread-safe.
  void Stop();

 private:
  struct Route {
    std::string method;
    GuiHandler handler;
  };
  GuiServer(const Options& options, std::string token);

  // Steps 1 to 4 and the POST header checks: true if the request was
  // refused (res filled).
  bool Refuse(const httplib::Request& req, httplib::Response& res) const;
  void Dispatch(const httplib::Request& req, httplib::Response& res) const;
  bool HostAllowed(const std::string& host) const;
  bool OriginAllowed(const std::string& origin) const;
  bool TokenMatches(const std::string& authorization) const;

  Options options_;
  std::string token_;
  int port_ = 0;
  std::map<std::string, Route> routes_;  // written before Serve only
  std::unique_ptr<httplib::Server> http_;
  absl::Mutex mu_;
  bool stop_requested_ ABSL_GUARDED_BY(mu_) = false;
  bool serving_ ABSL_GUARDED_BY(mu_) = false;  // inside listen_after_bind
};

// The JSON API of `parley gui` over one Device:
//
//   GET  /api/status          who I am, whether the server answered, outbox
//   GET  /api/channels        channels (offline: those seen in messages)
//   GET  /api/messages?channel=NAME   the channel's received messages
//   POST /api/send            {channel, text}
//   GET  /api/notifications   the register with per-party states
//   GET  /api/notification?id=ID     detail: versions, events
//   POST /api/notification/acknowledge  {id}: acknowledged receipt
//   POST /api/notification/object       {id, reason}
//   POST /api/notification/cancel       {id, reason} (issuer)
//   POST /api/notification/status       {id, status, note} (issuer)
//   POST /api/notify          the notify form (client/gui/gui_forms.h):
//                             a new movement or site (coordinators)
//   POST /api/notification/amend        {id, form fields}: a new version
//                             changing only the fields given (issuer)
//   GET  /api/parties         the directory's parties, for the form
//   GET  /api/outbox          items queued, not yet sent
//   POST /api/outbox/resend   {id}: a held send sealed again for the
//                             channel's current members; a waiting item
//                             sent now
//   POST /api/outbox/drop     {id, force}: give the item up (force: also
//                             one still waiting, which may have reached
//                             the server)
//   POST /api/sync            send the outbox now, then fetch
//
// Parties acknowledge and object, coordinators notify, amend, cancel and
// post status: anyone else is refused with 403 "wrong_role" before the
// request is read further. A refused form answers 400 with "field" (the
// first problem's) and "problems": [{field, message}] (every problem found;
// the fields are the form's, see client/gui/gui_forms.h).
//
// Device is not thread-safe: every call into it holds one mutex. A
// background thread (Start) keeps the device in step with the server
// every Options::sync_every: receipts and the outbox go out, new
// messages and notifications come in. Thread-safe.
class GuiApi {
 public:
  struct Options {
    absl::Duration sync_every = absl::Seconds(5);
    // "Sync now": retries of an unreachable server, as `parley sync` but
    // shorter, since the page waits for the answer.
    int sync_attempts = 3;
    absl::Duration sync_budget = absl::Seconds(10);
  };

  // `device` must outlive this object.
  GuiApi(Device& device, const Options& options);
  ~GuiApi();  // Stop()
  GuiApi(const GuiApi&) = delete;
  GuiApi& operator=(const GuiApi&) = delete;

  // Registers the paths above. REQUIRES: before server.Serve().
  void Register(GuiServer& server);
  // Starts the background sync thread.
  void Start();
  // Stops it (a running sync is asked to stop) and waits for it.
  void Stop();

 private:
  // What the page shows in its status bar.
  struct Contact {
    bool known = false;      // the server was tried at least once
    bool reachable = false;  // it answered the last call
    int64_t checked_at_ms = 0;
    std::string error;       // why it did not answer
    int64_t synced_at_ms = 0;  // last time fetched until caught up
    size_t waiting = 0;      // outbox items queued, not yet sent
    size_t held = 0;         // refused by the server, held
    std::vector<std::string> notices;  // warnings and notes, newest last
  };

  GuiReply Status(const GuiRequest& request);
  GuiReply Channels(const GuiRequest& request);
  GuiReply Messages(const GuiRequest& request);
  GuiReply Send(const GuiRequest& request);
  GuiReply Notifications(const GuiRequest& request);
  GuiReply Notification(const GuiRequest& request);
  GuiReply Acknowledge(const GuiRequest& request, bool object);
  GuiReply Cancel(const GuiRequest& request);
  GuiReply PostStatus(const GuiRequest& request);
  GuiReply Notify(const GuiRequest& request);
  GuiReply Amend(const GuiRequest& request);
  GuiReply Parties(const GuiRequest& request);
  GuiReply Outbox(const GuiRequest& request);
  GuiReply OutboxResend(const GuiRequest& request);
  GuiReply OutboxDrop(const GuiRequest& request);
  GuiReply SyncNow(const GuiRequest& request);

  // 403 "wrong_role" unless this device's role is `role`; `what` says what
  // the role is needed for ("notify parties").
  std::optional<GuiReply> RequireRole(MemberRole role, const char* what);
  // Checks the parties against the directory (when the server answers),
  // then Device::Notify; the reply for the page.
  GuiReply SubmitNotification(const NotificationContent& content)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(device_mu_);

  // One background round: Maintain, then Sync until caught up.
  void SyncRound() ABSL_EXCLUSIVE_LOCKS_REQUIRED(device_mu_);
  void SyncLoop();
  // Records the outcome of a server call, the outbox counts and the
  // device's warnings for the status bar.
  void Note(const absl::Status& call) ABSL_EXCLUSIVE_LOCKS_REQUIRED(device_mu_);
  // The outbox counts only (after a local change).
  void CountOutbox() ABSL_EXCLUSIVE_LOCKS_REQUIRED(device_mu_);
  void AddNotices(const std::vector<std::string>& notices)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(device_mu_);

  // Lock order: device_mu_, then contact_mu_.
  Device& device_;  // guarded by device_mu_
  const Options options_;
  absl::Mutex device_mu_;
  absl::Mutex contact_mu_;
  Contact contact_ ABSL_GUARDED_BY(contact_mu_);
  // name, role, organisation, server address: fixed while it runs.
  nlohmann::json me_ ABSL_GUARDED_BY(contact_mu_);
  absl::Mutex stop_mu_;
  bool stopping_ ABSL_GUARDED_BY(stop_mu_) = false;
  std::unique_ptr<std::thread> syncer_ ABSL_GUARDED_BY(stop_mu_);
};

}  // namespace parley

#endif  // PARLEY_CLIENT_GUI_GUI_H_
