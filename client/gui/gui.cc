// GuiServer: the loopback HTTP server of `parley gui` and its checks.

#include "client/gui/gui.h"

#include <sodium.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "crypto/encoding.h"
#include "httplib.h"

namespace parley {
namespace {

constexpr size_t kTokenBytes = 32;  // 256 bits
constexpr char kApiPrefix[] = "/api/";

// script-src/style-src 'self' without 'unsafe-inline': the page runs only
// the script served from this origin, never text injected into the page.
constexpr char kContentSecurityPolicy[] =
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

void SetJson(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json; charset=utf-8");
}

void SetError(httplib::Response& res, int status, const std::string& code,
              const std::string& message) {
  const GuiReply reply = GuiError(status, code, message);
  SetJson(res, reply.status, reply.body);
}

std::string LowerCodeName(absl::StatusCode code) {
  return absl::AsciiStrToLower(absl::StatusCodeToString(code));
}

}  // namespace

std::string GuiRequest::Get(const std::string& name) const {
  if (auto it = query.find(name); it != query.end()) return it->second;
  if (body.is_object()) {
    auto it = body.find(name);
    if (it != body.end() && it->is_string()) return it->get<std::string>();
  }
  return "";
}

GuiReply GuiError(int status, const std::string& code,
                  const std::string& message) {
  return GuiReply{status, {{"error", message}, {"code", code}}};
}

GuiReply GuiErrorFor(const absl::Status& status) {
  int http = 500;
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      http = 400;
      break;
    case absl::StatusCode::kNotFound:
      http = 404;
      break;
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated:
      http = 403;
      break;
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kUnimplemented:  // e.g. a server without the method
      http = 409;
      break;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
      http = 503;
      break;
    case absl::StatusCode::kDataLoss:
      http = 502;
      break;
    default:
      break;
  }
  return GuiError(http, LowerCodeName(status.code()),
                  std::string(status.message()));
}

// ---------------------------------------------------------------------------
// GuiServer

absl::StatusOr<std::unique_ptr<GuiServer>> GuiServer::Bind(
    const Options& options) {
  if (options.host != "127.0.0.1") {
    return absl::InvalidArgumentError(absl::StrCat(
        "the GUI listens on 127.0.0.1 only (it holds your keys' session); "
        "refusing to listen on \"",
        options.host, "\""));
  }
  if (options.port < 0 || options.port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--port ", options.port, ": give 1 to 65535, or 0 for any free port"));
  }
  if (options.random == nullptr) {
    return absl::InvalidArgumentError("GuiServer needs a randomness source");
  }
  std::string token(kTokenBytes, '\0');
  options.random->Fill(reinterpret_cast<uint8_t*>(token.data()), token.size());
  std::unique_ptr<GuiServer> server(
      new GuiServer(options, HexEncode(token)));
  sodium_memzero(token.data(), token.size());

  httplib::Server& http = *server->http_;
  // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, which would let
  // a second process share the port and receive our requests.
  http.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  if (options.port == 0) {
    server->port_ = http.bind_to_any_port(options.host);
    if (server->port_ <= 0) {
      return absl::UnavailableError(
          absl::StrCat("cannot listen on ", options.host, " (any port)"));
    }
  } else {
    if (!http.bind_to_port(options.host, options.port)) {
      return absl::UnavailableError(absl::StrCat(
          "cannot listen on ", options.host, ":", options.port,
          ": is the port in use? Give another --port, or 0 for any free "
          "port"));
    }
    server->port_ = options.port;
  }
  return server;
}

GuiServer::GuiServer(const Options& options, std::string token)
    : options_(options),
      token_(std::move(token)),
      http_(std::make_unique<httplib::Server>()) {
  for (const GuiAsset& asset : GuiAssets()) {
    // Answered in Dispatch; the route only claims the path and method.
    routes_[asset.path] = Route{"GET", nullptr};
  }
  httplib::Server& http = *http_;
  http.set_default_headers({
      {"Content-Security-Policy", kContentSecurityPolicy},
      {"X-Content-Type-Options", "nosniff"},
      {"X-Frame-Options", "DENY"},
      {"Cache-Control", "no-store"},
      {"Referrer-Policy", "no-referrer"},
      {"Cross-Origin-Opener-Policy", "same-origin"},
      {"Cross-Origin-Resource-Policy", "same-origin"},
  });
  http.set_payload_max_length(options_.max_body_bytes);
  http.set_read_timeout(10, 0);
  http.set_write_timeout(10, 0);
  http.set_pre_routing_handler(
      [this](const httplib::Request& req, httplib::Response& res) {
        return Refuse(req, res) ? httplib::Server::HandlerResponse::Handled
                                : httplib::Server::HandlerResponse::Unhandled;
      });
  auto dispatch = [this](const httplib::Request& req,
                         httplib::Response& res) { Dispatch(req, res); };
  http.Get(".*", dispatch);
  http.Post(".*", dispatch);
  http.Put(".*", dispatch);
  http.Patch(".*", dispatch);
  http.Delete(".*", dispatch);
  http.Options(".*", dispatch);
  // Errors httplib raises itself (413 body too large, 400 bad request, a
  // method it does not know) get the same JSON shape.
  http.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 413) {
      SetError(res, 413, "body_too_large",
               "the request body is too large for this API");
    } else if (res.status == 404) {
      SetError(res, 404, "not_found", "no such path");
    } else {
      SetError(res, res.status, "bad_request",
               absl::StrCat("the request was refused (HTTP ", res.status,
                            ")"));
    }
  });
  http.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        SetError(res, 500, "internal",
                 "the request failed inside parley; see its terminal");
      });
}

GuiServer::~GuiServer() { Stop(); }

void GuiServer::HandleGet(const std::string& path, GuiHandler handler) {
  routes_[path] = Route{"GET", std::move(handler)};
}

void GuiServer::HandlePost(const std::string& path, GuiHandler handler) {
  routes_[path] = Route{"POST", std::move(handler)};
}

std::string GuiServer::url() const {
  return absl::StrCat("http://", options_.host, ":", port_, "/#token=",
                      token_);
}

absl::Status GuiServer::Serve() {
  {
    absl::MutexLock lock(&mu_);
    if (stop_requested_) return absl::OkStatus();
    serving_ = true;
  }
  const bool ok = http_->listen_after_bind();
  {
    absl::MutexLock lock(&mu_);
    serving_ = false;
  }
  if (!ok) {
    return absl::UnavailableError(
        absl::StrCat("the GUI server on port ", port_, " stopped with an "
                     "error"));
  }
  return absl::OkStatus();
}

void GuiServer::Stop() {
  absl::MutexLock lock(&mu_);
  stop_requested_ = true;
  // httplib's stop() does nothing until its loop runs: a Serve that is
  // about to start it is waited for.
  while (serving_ && !http_->is_running()) {
    mu_.AwaitWithTimeout(absl::Condition(+[](bool* b) { return !*b; },
                                         &serving_),
                         absl::Milliseconds(5));
  }
  if (serving_) http_->stop();
}

bool GuiServer::HostAllowed(const std::string& host) const {
  return host == absl::StrCat("127.0.0.1:", port_) ||
         host == absl::StrCat("localhost:", port_);
}

bool GuiServer::OriginAllowed(const std::string& origin) const {
  return origin == absl::StrCat("http://127.0.0.1:", port_) ||
         origin == absl::StrCat("http://localhost:", port_);
}

bool GuiServer::TokenMatches(const std::string& authorization) const {
  constexpr absl::string_view kScheme = "Bearer ";
  if (!absl::StartsWith(authorization, kScheme)) return false;
  const std::string given = authorization.substr(kScheme.size());
  // The length is public (always 64); the bytes are compared in constant
  // time.
  if (given.size() != token_.size()) return false;
  return sodium_memcmp(given.data(), token_.data(), token_.size()) == 0;
}

bool GuiServer::Refuse(const httplib::Request& req,
                       httplib::Response& res) const {
  const std::string host = req.get_header_value("Host");
  if (req.get_header_value_count("Host") != 1 || !HostAllowed(host)) {
    SetError(res, 403, "bad_host",
             absl::StrCat("refused: this server answers only to "
                          "127.0.0.1:",
                          port_, " or localhost:", port_,
                          " (Host header was \"", host, "\")"));
    return true;
  }
  if (req.has_header("Origin") &&
      !OriginAllowed(req.get_header_value("Origin"))) {
    SetError(res, 403, "cross_origin",
             absl::StrCat("refused: a request from another origin (\"",
                          req.get_header_value("Origin"), "\")"));
    return true;
  }
  const std::string fetch_site = req.get_header_value("Sec-Fetch-Site");
  if (fetch_site == "cross-site" || fetch_site == "same-site") {
    SetError(res, 403, "cross_origin",
             "refused: a request started by another site");
    return true;
  }
  const bool api = absl::StartsWith(req.path, kApiPrefix);
  if (api) {
    if (!req.has_header("Authorization")) {
      res.set_header("WWW-Authenticate", "Bearer");
      SetError(res, 401, "missing_token",
               "no session token: open the address `parley gui` printed "
               "(it ends in #token=...)");
      return true;
    }
    if (!TokenMatches(req.get_header_value("Authorization"))) {
      res.set_header("WWW-Authenticate", "Bearer");
      SetError(res, 401, "wrong_token",
               "wrong session token: it changes every time `parley gui` "
               "starts; open the address it printed this time");
      return true;
    }
  }
  auto route = routes_.find(req.path);
  if (route == routes_.end()) {
    SetError(res, 404, "not_found",
             absl::StrCat("no such path: ", req.path));
    return true;
  }
  const std::string& method = route->second.method;
  const bool head_of_get = method == "GET" && req.method == "HEAD";
  if (req.method != method && !head_of_get) {
    res.set_header("Allow", method);
    SetError(res, 405, "method_not_allowed",
             absl::StrCat(req.path, " takes ", method, ", not ", req.method,
                          method == "POST"
                              ? " (changes are made with POST and a JSON "
                                "body only)"
                              : ""));
    return true;
  }
  // httplib 0.11 limits only bodies with a Content-Length: a chunked body,
  // or one that runs until the connection closes, would be read whole.
  // Neither is needed (browsers send Content-Length), so neither is read.
  if (req.has_header("Transfer-Encoding")) {
    SetError(res, 411, "length_required",
             "send the request body with a Content-Length, not chunked");
    return true;
  }
  const std::string length = req.get_header_value("Content-Length");
  uint64_t announced = 0;
  if (!length.empty() && (!absl::SimpleAtoi(length, &announced) ||
                          announced > options_.max_body_bytes)) {
    SetError(res, 413, "body_too_large",
             absl::StrCat("the request body is larger than ",
                          options_.max_body_bytes, " bytes"));
    return true;
  }
  if (method == "POST" && length.empty()) {
    SetError(res, 411, "length_required",
             "send the request body with a Content-Length");
    return true;
  }
  if (method == "POST") {
    const std::string type =
        absl::AsciiStrToLower(req.get_header_value("Content-Type"));
    if (type != "application/json" &&
        !absl::StartsWith(type, "application/json;")) {
      SetError(res, 415, "not_json",
               "send the request body as JSON (Content-Type: "
               "application/json)");
      return true;
    }
  }
  return false;
}

void GuiServer::Dispatch(const httplib::Request& req,
                         httplib::Response& res) const {
  // Refuse() already found the route and checked the method.
  auto route = routes_.find(req.path);
  if (route == routes_.end()) {
    SetError(res, 404, "not_found", absl::StrCat("no such path: ", req.path));
    return;
  }
  if (route->second.handler == nullptr) {
    for (const GuiAsset& asset : GuiAssets()) {
      if (req.path == asset.path) {
        res.status = 200;
        res.set_content(std::string(asset.body), asset.content_type);
        return;
      }
    }
    SetError(res, 404, "not_found", absl::StrCat("no such path: ", req.path));
    return;
  }
  GuiRequest request;
  if (route->second.method == "POST") {
    request.body = nlohmann::json::parse(req.body, nullptr, false);
    if (request.body.is_discarded() || !request.body.is_object()) {
      SetError(res, 400, "bad_json",
               "the request body must be one JSON object");
      return;
    }
  } else {
    for (const auto& [name, value] : req.params) request.query[name] = value;
  }
  const GuiReply reply = route->second.handler(request);
  SetJson(res, reply.status, reply.body);
}

}  // namespace parley
