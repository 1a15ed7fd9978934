#include "client/core/ca_pin.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "crypto/openssl_error.h"

namespace parley {
namespace {

template <auto kFree>
struct OpenSslFree {
  template <typename T>
  void operator()(T* p) const {
    kFree(p);
  }
};
using BioPtr = std::unique_ptr<BIO, OpenSslFree<BIO_free_all>>;
using SslCtxPtr = std::unique_ptr<SSL_CTX, OpenSslFree<SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, OpenSslFree<SSL_free>>;
using StorePtr = std::unique_ptr<X509_STORE, OpenSslFree<X509_STORE_free>>;
using StoreCtxPtr =
    std::unique_ptr<X509_STORE_CTX, OpenSslFree<X509_STORE_CTX_free>>;

constexpr size_t kFingerprintHexSize = 64;
// The ALPN protocol list offered: gRPC servers refuse TLS without "h2".
constexpr unsigned char kAlpnH2[] = {2, 'h', '2'};

// Owns a file descriptor.
class ScopedFd {
 public:
  explicit ScopedFd(int fd = -1) : fd_(fd) {}
  ScopedFd(ScopedFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  ScopedFd& operator=(ScopedFd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  ~ScopedFd() { Reset(); }
  int get() const { return fd_; }

 private:
  void Reset() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }
  int fd_;
};

struct HostPort {
  std::string host;
  std::string port;
};

absl::StatusOr<HostPort> SplitHostPort(const std::string& host_port) {
  HostPort out;
  std::string_view rest;
  if (!host_port.empty() && host_port.front() == '[') {
    const size_t close = host_port.find(']');
    if (close == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("no closing ']' in server address \"", host_port, "\""));
    }
    out.host = host_port.substr(1, close - 1);
    rest = std::string_view(host_port).substr(close + 1);
  } else {
    const size_t colon = host_port.rfind(':');
    if (colon != std::string::npos && host_port.find(':') != colon) {
      return absl::InvalidArgumentError(absl::StrCat(
          "server address \"", host_port,
          "\" is ambiguous: write IPv6 addresses in brackets, e.g. "
          "[::1]:7443"));
    }
    out.host = host_port.substr(0, colon);
    if (colon != std::string::npos) {
      rest = std::string_view(host_port).substr(colon);
    }
  }
  int port = 0;
  if (out.host.empty() || rest.size() < 2 || rest.front() != ':' ||
      !absl::SimpleAtoi(absl::string_view(rest.data() + 1, rest.size() - 1),
                        &port) ||
      port < 1 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "server address \"", host_port,
        "\" is not HOST:PORT (e.g. localhost:7443 or [::1]:7443)"));
  }
  out.port = std::to_string(port);
  return out;
}

// "Connection refused" -> "connection refused", to continue a sentence.
std::string LowerFirst(std::string text) {
  if (!text.empty()) text[0] = absl::ascii_tolower(text[0]);
  return text;
}

// Builds the errors of one fetch, all naming the address the user gave.
class Failure {
 public:
  explicit Failure(const std::string& host_port) : host_port_(host_port) {}

  absl::Status Unreachable(absl::string_view why) const {
    return absl::UnavailableError(
        absl::StrCat("cannot reach ", host_port_, ": ", why));
  }
  absl::Status Internal(absl::string_view what) const {
    return absl::InternalError(absl::StrCat("OpenSSL failed ", what, " for ",
                                            host_port_, ": ",
                                            DrainOpenSslErrors()));
  }

 private:
  const std::string& host_port_;
};

// Waits until `fd` is ready for `events` or `deadline` passes.
// Returns false on timeout.
bool WaitFor(int fd, short events, absl::Time deadline) {
  while (true) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return false;
    pollfd p = {fd, events, 0};
    const int ms = static_cast<int>(
        absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1))));
    const int n = poll(&p, 1, ms);
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return true;  // Let the I/O call report it.
  }
}

absl::StatusOr<ScopedFd> Connect(const HostPort& address, absl::Time deadline,
                                 absl::Duration timeout,
                                 const Failure& failure) {
  addrinfo hints = {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
  addrinfo* results = nullptr;
  if (int rc = getaddrinfo(address.host.c_str(), address.port.c_str(), &hints,
                           &results);
      rc != 0) {
    return failure.Unreachable(rc == EAI_SYSTEM
                                   ? LowerFirst(std::strerror(errno))
                                   : LowerFirst(gai_strerror(rc)));
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owner(results,
                                                           &freeaddrinfo);
  std::string last_error = "no usable address";
  for (addrinfo* ai = results; ai != nullptr; ai = ai->ai_next) {
    ScopedFd fd(socket(ai->ai_family,
                       ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                       ai->ai_protocol));
    if (fd.get() < 0) {
      last_error = LowerFirst(std::strerror(errno));
      continue;
    }
    int err = 0;
    if (connect(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0) {
      err = errno;
      if (err == EINPROGRESS) {
        if (!WaitFor(fd.get(), POLLOUT, deadline)) {
          return failure.Unreachable(absl::StrCat(
              "connection timed out after ", absl::FormatDuration(timeout)));
        }
        socklen_t len = sizeof(err);
        if (getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
          err = errno;
        }
      }
    }
    if (err == 0) return fd;
    last_error = LowerFirst(std::strerror(err));
  }
  return failure.Unreachable(last_error);
}

// Sends everything OpenSSL has queued in `out`.
absl::Status SendPending(int fd, BIO* out, absl::Time deadline,
                         absl::Duration timeout, const Failure& failure) {
  char buf[16 * 1024];
  int n;
  while ((n = BIO_read(out, buf, sizeof(buf))) > 0) {
    for (int sent = 0; sent < n;) {
      const ssize_t w = send(fd, buf + sent, n - sent, MSG_NOSIGNAL);
      if (w >= 0) {
        sent += static_cast<int>(w);
      } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (!WaitFor(fd, POLLOUT, deadline)) {
          return failure.Unreachable(absl::StrCat(
              "TLS handshake timed out after ", absl::FormatDuration(timeout)));
        }
      } else if (errno != EINTR) {
        return failure.Unreachable(LowerFirst(std::strerror(errno)));
      }
    }
  }
  return absl::OkStatus();
}

// Moves the next bytes the server sent into `in`.
absl::Status ReceiveSome(int fd, BIO* in, absl::Time deadline,
                         absl::Duration timeout, const Failure& failure) {
  char buf[16 * 1024];
  while (true) {
    const ssize_t r = recv(fd, buf, sizeof(buf), 0);
    if (r > 0) {
      BIO_write(in, buf, static_cast<int>(r));
      return absl::OkStatus();
    }
    if (r == 0) {
      return failure.Unreachable(
          "the server closed the connection during the TLS handshake (is it "
          "a TLS server?)");
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (!WaitFor(fd, POLLIN, deadline)) {
        return failure.Unreachable(absl::StrCat(
            "TLS handshake timed out after ", absl::FormatDuration(timeout)));
      }
    } else if (errno != EINTR) {
      return failure.Unreachable(LowerFirst(std::strerror(errno)));
    }
  }
}

absl::StatusOr<std::string> Sha256Hex(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(cert, EVP_sha256(), md, &len) != 1) {
    return absl::InternalError(
        absl::StrCat("cannot hash a certificate: ", DrainOpenSslErrors()));
  }
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(md), len));
}

// Checks that `leaf` chains up to `anchor`, the only trusted certificate,
// possibly through the other certificates the server sent.
absl::Status VerifyLeaf(X509* leaf, X509* anchor, STACK_OF(X509) * untrusted,
                        const Failure& failure) {
  StorePtr store(X509_STORE_new());
  StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!store || !ctx || X509_STORE_add_cert(store.get(), anchor) != 1 ||
      X509_STORE_CTX_init(ctx.get(), store.get(), leaf, untrusted) != 1 ||
      X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_SERVER) != 1) {
    return failure.Internal("setting up certificate verification");
  }
  // The anchor need not be self-signed (an intermediate may be pinned).
  X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(ctx.get()),
                              X509_V_FLAG_PARTIAL_CHAIN);
  if (X509_verify_cert(ctx.get()) != 1) {
    const int err = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    return absl::PermissionDeniedError(absl::StrCat(
        "the server's certificate does not verify against the pinned CA (",
        X509_verify_cert_error_string(err), "): refusing to connect"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ToPem(X509* cert, const Failure& failure) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) {
    return failure.Internal("writing the CA certificate as PEM");
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

bool IsIpLiteral(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 ||
         inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

}  // namespace

absl::StatusOr<std::string> NormalizeFingerprint(std::string_view fingerprint) {
  std::string hex;
  for (char c : fingerprint) {
    if (c == ':' || absl::ascii_isspace(c)) continue;
    if (!absl::ascii_isxdigit(c)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "CA fingerprint contains '", absl::CEscape(std::string(1, c)),
          "', which is not a hex digit; expected the 64 hex digits of a "
          "SHA-256 fingerprint"));
    }
    hex.push_back(absl::ascii_tolower(c));
  }
  if (hex.size() != kFingerprintHexSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("CA fingerprint has ", hex.size(),
                     " hex digits; a SHA-256 fingerprint has 64"));
  }
  return hex;
}

absl::StatusOr<std::string> FetchPinnedCaCertificate(
    const std::string& host_port, std::string_view fingerprint_hex,
    absl::Duration timeout) {
  absl::StatusOr<std::string> pinned = NormalizeFingerprint(fingerprint_hex);
  if (!pinned.ok()) return pinned.status();
  absl::StatusOr<HostPort> address = SplitHostPort(host_port);
  if (!address.ok()) return address.status();
  if (timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("timeout must be positive");
  }
  const absl::Time deadline = absl::Now() + timeout;
  const Failure failure(host_port);
  ERR_clear_error();

  absl::StatusOr<ScopedFd> fd = Connect(*address, deadline, timeout, failure);
  if (!fd.ok()) return fd.status();

  // Certificates are checked below against the pin, not against any system
  // trust store, so OpenSSL's own verification is off.
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx || SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_alpn_protos(ctx.get(), kAlpnH2, sizeof(kAlpnH2)) != 0) {
    return failure.Internal("creating a TLS context");
  }
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  SslPtr ssl(SSL_new(ctx.get()));
  if (!ssl) return failure.Internal("creating a TLS connection");
  if (!IsIpLiteral(address->host) &&
      SSL_set_tlsext_host_name(ssl.get(), address->host.c_str()) != 1) {
    return failure.Internal("setting the server name");
  }
  // Memory BIOs keep socket I/O here, so every wait honours the deadline and
  // a reset connection cannot raise SIGPIPE.
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  if (in == nullptr || out == nullptr) {
    BIO_free(in);
    BIO_free(out);
    return failure.Internal("allocating buffers");
  }
  SSL_set_bio(ssl.get(), in, out);  // `ssl` owns both from here.
  SSL_set_connect_state(ssl.get());

  while (true) {
    const int rc = SSL_do_handshake(ssl.get());
    const bool failed =
        rc != 1 && SSL_get_error(ssl.get(), rc) != SSL_ERROR_WANT_READ;
    // Also sends the alert of a failed handshake, so report that failure
    // rather than any error in sending.
    const absl::Status sent =
        SendPending(fd->get(), out, deadline, timeout, failure);
    if (failed) {
      return failure.Unreachable(
          absl::StrCat("TLS handshake failed: ", DrainOpenSslErrors()));
    }
    if (!sent.ok()) return sent;
    if (rc == 1) break;
    if (absl::Status s = ReceiveSome(fd->get(), in, deadline, timeout, failure);
        !s.ok()) {
      return s;
    }
  }

  // On the client side the peer chain includes the leaf, first.
  STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl.get());
  const int chain_size = chain == nullptr ? 0 : sk_X509_num(chain);
  if (chain_size == 0) {
    return failure.Unreachable("the server presented no certificate");
  }
  X509* match = nullptr;
  std::string top_fingerprint;
  for (int i = 0; i < chain_size; ++i) {
    absl::StatusOr<std::string> fp = Sha256Hex(sk_X509_value(chain, i));
    if (!fp.ok()) return fp.status();
    if (*fp == *pinned && match == nullptr) match = sk_X509_value(chain, i);
    if (i == chain_size - 1) top_fingerprint = *std::move(fp);
  }
  if (match == nullptr) {
    return absl::PermissionDeniedError(absl::StrCat(
        "the server's CA fingerprint is ", top_fingerprint, " but you pinned ",
        *pinned,
        ": refusing to connect (wrong server, or a machine in the middle)"));
  }
  if ((X509_get_extension_flags(match) & EXFLAG_CA) == 0) {
    return absl::PermissionDeniedError(absl::StrCat(
        "the certificate with fingerprint ", *pinned,
        " is not a CA certificate (no basicConstraints CA:TRUE)",
        match == sk_X509_value(chain, 0)
            ? ": it is the server's own certificate; pin the CA's fingerprint "
              "that parleyd prints at start"
            : ""));
  }
  if (absl::Status s =
          VerifyLeaf(sk_X509_value(chain, 0), match, chain, failure);
      !s.ok()) {
    return s;
  }
  absl::StatusOr<std::string> pem = ToPem(match, failure);

  // Polite close; its failure changes nothing.
  SSL_shutdown(ssl.get());
  SendPending(fd->get(), out, deadline, timeout, failure).IgnoreError();
  ERR_clear_error();
  return pem;
}

}  // namespace parley
