#include "client/core/ca_pin.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <grpcpp/support/byte_buffer.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace parley {
namespace {

using ::parley::testing::StatusIs;
using ::testing::HasSubstr;

// Test PKI made once with CreateDevPki (server/dev_pki.h) at 2020-01-01,
// valid until 2120: the client tests do not link the server library.
constexpr char kCaPem[] = R"pem(-----BEGIN CERTIFICATE-----
MIIB7DCCAZGgAwIBAgIRAMIQ80E55haCz5gaCAghDpQwCgYIKoZIzj0EAwIwQjEP
MA0GA1UECgwGUGFybGV5MS8wLQYDVQQDDCZQYXJsZXkgZGV2ZWxvcG1lbnQgQ0Eg
ZjMxMDUwZjM0MTY4MWY5MzAgFw0xOTEyMzEyMzAwMDBaGA8yMTIwMDEwMjAwMDAw
MFowQjEPMA0GA1UECgwGUGFybGV5MS8wLQYDVQQDDCZQYXJsZXkgZGV2ZWxvcG1l
bnQgQ0EgZjMxMDUwZjM0MTY4MWY5MzBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IA
BGKt3eNCCLWBd+1XjJgCncegAyUwWeQn60A0H8CCmZaSIXA67FO0plbFKsprhYYP
L9z2XxS/AA5BZtPUDg8ItYajZjBkMBIGA1UdEwEB/wQIMAYBAf8CAQAwDgYDVR0P
AQH/BAQDAgEGMB0GA1UdDgQWBBSdPgem25Sre96rRFHEU5u8jTOQPjAfBgNVHSME
GDAWgBSdPgem25Sre96rRFHEU5u8jTOQPjAKBggqhkjOPQQDAgNJADBGAiEAqE2D
YFHPgb6IAE4n7hllLB2R7eigE1tZrelPv5pHJeACIQDLRn4K0ciHwqqtWLlhKL0z
ctDshs56M2D1jZJVRmxURA==
-----END CERTIFICATE-----
)pem";
constexpr char kServerChainPem[] = R"pem(-----BEGIN CERTIFICATE-----
MIICEzCCAbmgAwIBAgIQQ31PJnGVIcwCNFCsGpzk/jAKBggqhkjOPQQDAjBCMQ8w
DQYDVQQKDAZQYXJsZXkxLzAtBgNVBAMMJlBhcmxleSBkZXZlbG9wbWVudCBDQSBm
MzEwNTBmMzQxNjgxZjkzMCAXDTE5MTIzMTIzMDAwMFoYDzIxMjAwMTAyMDAwMDAw
WjAjMQ8wDQYDVQQKDAZQYXJsZXkxEDAOBgNVBAMMB3BhcmxleWQwWTATBgcqhkjO
PQIBBggqhkjOPQMBBwNCAATTlbymsmEcgbCuzv7CwvnPVJBj85aDH9lP3HUqaY40
y1vxPUCr4SPVbgf8R+fycchF9LtL3oXm/2nAW6gODJNpo4GtMIGqMAwGA1UdEwEB
/wQCMAAwDgYDVR0PAQH/BAQDAgeAMBMGA1UdJQQMMAoGCCsGAQUFBwMBMB0GA1Ud
DgQWBBRUnpc1U53bo8DqKAtWFkrc+/HtgDAfBgNVHSMEGDAWgBSdPgem25Sre96r
RFHEU5u8jTOQPjA1BgNVHREELjAsgglsb2NhbGhvc3SCB3BhcmxleWSHBH8AAAGH
EAAAAAAAAAAAAAAAAAAAAAEwCgYIKoZIzj0EAwIDSAAwRQIgEoMucn3QWkf1f135
NkbRRlsvuaXUhMkWLUWnVHNnMgACIQCXiGLtBR6ipPRxQZTLapu9GCOLqc0P/HKK
CmTYTEIIDg==
-----END CERTIFICATE-----
-----BEGIN CERTIFICATE-----
MIIB7DCCAZGgAwIBAgIRAMIQ80E55haCz5gaCAghDpQwCgYIKoZIzj0EAwIwQjEP
MA0GA1UECgwGUGFybGV5MS8wLQYDVQQDDCZQYXJsZXkgZGV2ZWxvcG1lbnQgQ0Eg
ZjMxMDUwZjM0MTY4MWY5MzAgFw0xOTEyMzEyMzAwMDBaGA8yMTIwMDEwMjAwMDAw
MFowQjEPMA0GA1UECgwGUGFybGV5MS8wLQYDVQQDDCZQYXJsZXkgZGV2ZWxvcG1l
bnQgQ0EgZjMxMDUwZjM0MTY4MWY5MzBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IA
BGKt3eNCCLWBd+1XjJgCncegAyUwWeQn60A0H8CCmZaSIXA67FO0plbFKsprhYYP
L9z2XxS/AA5BZtPUDg8ItYajZjBkMBIGA1UdEwEB/wQIMAYBAf8CAQAwDgYDVR0P
AQH/BAQDAgEGMB0GA1UdDgQWBBSdPgem25Sre96rRFHEU5u8jTOQPjAfBgNVHSME
GDAWgBSdPgem25Sre96rRFHEU5u8jTOQPjAKBggqhkjOPQQDAgNJADBGAiEAqE2D
YFHPgb6IAE4n7hllLB2R7eigE1tZrelPv5pHJeACIQDLRn4K0ciHwqqtWLlhKL0z
ctDshs56M2D1jZJVRmxURA==
-----END CERTIFICATE-----
)pem";
constexpr char kServerKeyPem[] = R"pem(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgLee8xXBexJXtP2lt
oFX95safqx6zBe2E7x2LQRPOc+yhRANCAATTlbymsmEcgbCuzv7CwvnPVJBj85aD
H9lP3HUqaY40y1vxPUCr4SPVbgf8R+fycchF9LtL3oXm/2nAW6gODJNp
-----END PRIVATE KEY-----
)pem";
// A second, unrelated development CA.
constexpr char kOtherCaPem[] = R"pem(-----BEGIN CERTIFICATE-----
MIIB6jCCAZGgAwIBAgIRAM29fDDSQ6TRs3UevVGdDxkwCgYIKoZIzj0EAwIwQjEP
MA0GA1UECgwGUGFybGV5MS8wLQYDVQQDDCZQYXJsZXkgZGV2ZWxvcG1lbnQgQ0Eg
M2ViYTA0M2I5NmVmMmE5OTAgFw0xOTEyMzEyMzAwMDBaGA8yMTIwMDEwMjAwMDAw
MFowQjEPMA0GA1UECgwGUGFybGV5MS8wLQYDVQQDDCZQYXJsZXkgZGV2ZWxvcG1l
bnQgQ0EgM2ViYTA0M2I5NmVmMmE5OTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IA
BET/+UKyzh+CHhVQjNu2xPA4obyVYkPskGrHKWhdN38m/SPNQofvSIKPczTDbAH7
grLtHQ1yXlpcrChx+7c1WtmjZjBkMBIGA1UdEwEB/wQIMAYBAf8CAQAwDgYDVR0P
AQH/BAQDAgEGMB0GA1UdDgQWBBSkf5yeGeWPrWmLR21yO05eYr+RnzAfBgNVHSME
GDAWgBSkf5yeGeWPrWmLR21yO05eYr+RnzAKBggqhkjOPQQDAgNHADBEAiB1pb5G
i0CrP2zW2Ety3Vv9BjmKhtMffSrRLg1A8RwKQwIgXslIOyflgza2mElT+JnWU1xm
ZvsOT1K+fRppdRBhA/Y=
-----END CERTIFICATE-----
)pem";
// A server certificate and key from yet another development CA: an
// impostor that appends the real CA to its chain.
constexpr char kImpostorLeafPem[] = R"pem(-----BEGIN CERTIFICATE-----
MIICEzCCAbqgAwIBAgIRAKc/+e1hAKaAdLVWH2pG8eswCgYIKoZIzj0EAwIwQjEP
MA0GA1UECgwGUGFybGV5MS8wLQYDVQQDDCZQYXJsZXkgZGV2ZWxvcG1lbnQgQ0Eg
NzBlNWUwNzQwZWFhZWQ2MzAgFw0xOTEyMzEyMzAwMDBaGA8yMTIwMDEwMjAwMDAw
MFowIzEPMA0GA1UECgwGUGFybGV5MRAwDgYDVQQDDAdwYXJsZXlkMFkwEwYHKoZI
zj0CAQYIKoZIzj0DAQcDQgAE5i+x4GN9WHfIRugvov8PNoZGEQ18U3Ky6yshtrgc
DlbDAa2Y3+ikK+KAy7Tcl3EwKVlJKAi5KHAcHkOXxVoYe6OBrTCBqjAMBgNVHRMB
Af8EAjAAMA4GA1UdDwEB/wQEAwIHgDATBgNVHSUEDDAKBggrBgEFBQcDATAdBgNV
HQ4EFgQU7XUTHTpLuK32GZJosTupJcheQKcwHwYDVR0jBBgwFoAUc16o/eBpxGky
HrMTQhpm7Jsv+DIwNQYDVR0RBC4wLIIJbG9jYWxob3N0ggdwYXJsZXlkhwR/AAAB
hxAAAAAAAAAAAAAAAAAAAAABMAoGCCqGSM49BAMCA0cAMEQCIBQlvhhY8cEW30Bk
edxKv3q3XkyNCAdgtfURSqR5DGkmAiBHh3/uPVGhHkNyXUQqNiy0h8EkkTZoNpd/
9tYqaxzBzw==
-----END CERTIFICATE-----
)pem";
constexpr char kImpostorKeyPem[] = R"pem(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgdhU7g4pKRjHvG1z3
xPJeigTWnfmAm5TMgUg0tk/3U3OhRANCAATmL7HgY31Yd8hG6C+i/w82hkYRDXxT
crLrKyG2uBwOVsMBrZjf6KQr4oDLtNyXcTApWUkoCLkocBweQ5fFWhh7
-----END PRIVATE KEY-----
)pem";
constexpr char kCaFingerprint[] =
    "6b822a478d3c21a6f3b83a8833daa1b062725d8f467187c92e5221587673cc2e";
constexpr char kServerLeafFingerprint[] =
    "9016c71cf759b7604b4a610ff040e4f079d68426517f85ef5040385a63a8d3c5";
constexpr char kOtherCaFingerprint[] =
    "9b6ce02989eb111e776843debdfb89bf5e31e511fe3439ebb8643760af36b3e4";

constexpr absl::Duration kTimeout = absl::Seconds(5);

// A gRPC server with TLS from the fixture PKI and only the standard health
// service (plus a generic service that answers UNIMPLEMENTED, because gRPC
// will not start a server with no service of its own), on a port of the
// kernel's choosing.
class PinnedServer {
 public:
  explicit PinnedServer(const std::string& host = "127.0.0.1",
                        const std::string& key_pem = kServerKeyPem,
                        const std::string& chain_pem = kServerChainPem) {
    grpc::EnableDefaultHealthCheckService(true);
    grpc::SslServerCredentialsOptions tls;
    tls.pem_key_cert_pairs.push_back({key_pem, chain_pem});
    grpc::ServerBuilder builder;
    builder.RegisterCallbackGenericService(&unimplemented_);
    const std::string bracketed = host.find(':') == std::string::npos
                                      ? host
                                      : absl::StrCat("[", host, "]");
    builder.AddListeningPort(absl::StrCat(bracketed, ":0"),
                             grpc::SslServerCredentials(tls), &port_);
    server_ = builder.BuildAndStart();
    address_ = absl::StrCat(bracketed, ":", port_);
  }
  ~PinnedServer() {
    if (server_) server_->Shutdown(std::chrono::system_clock::now());
  }
  bool started() const { return server_ != nullptr && port_ != 0; }
  const std::string& address() const { return address_; }

 private:
  int port_ = 0;
  std::string address_;
  grpc::CallbackGenericService unimplemented_;
  std::unique_ptr<grpc::Server> server_;
};

// A TCP socket on 127.0.0.1 that is bound, and listening only if asked to;
// it never accepts, so it never answers a TLS ClientHello.
class SilentPort {
 public:
  explicit SilentPort(bool listening) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr = {};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), len), 0);
    if (listening) {
      EXPECT_EQ(listen(fd_, 4), 0);
    }
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    address_ = absl::StrCat("127.0.0.1:", ntohs(addr.sin_port));
  }
  ~SilentPort() { close(fd_); }
  const std::string& address() const { return address_; }

 private:
  int fd_;
  std::string address_;
};

// "ab12..." -> "AB:12:...", as `openssl x509 -fingerprint` prints it.
std::string OpenSslStyle(std::string hex) {
  absl::AsciiStrToUpper(&hex);
  std::vector<std::string> pairs;
  for (size_t i = 0; i < hex.size(); i += 2) pairs.push_back(hex.substr(i, 2));
  return absl::StrJoin(pairs, ":");
}

grpc_connectivity_state SettledState(grpc::Channel& channel,
                                     absl::Duration timeout) {
  const auto deadline =
      std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout);
  grpc_connectivity_state state = channel.GetState(/*try_to_connect=*/true);
  while (state != GRPC_CHANNEL_READY &&
         state != GRPC_CHANNEL_TRANSIENT_FAILURE &&
         channel.WaitForStateChange(state, deadline)) {
    state = channel.GetState(/*try_to_connect=*/true);
  }
  return state;
}

std::shared_ptr<grpc::Channel> ChannelTrusting(const std::string& address,
                                               const std::string& ca_pem) {
  grpc::SslCredentialsOptions tls;
  tls.pem_root_certs = ca_pem;
  return grpc::CreateChannel(address, grpc::SslCredentials(tls));
}

// Calls grpc.health.v1.Health/Check for the whole server and returns the
// serialized HealthCheckResponse.
absl::StatusOr<std::string> HealthCheck(
    std::shared_ptr<grpc::Channel> channel) {
  grpc::GenericStub stub(std::move(channel));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(5));
  grpc::Slice empty_request("");
  grpc::ByteBuffer request(&empty_request, 1);
  grpc::ByteBuffer response;
  grpc::Status status;
  absl::Notification done;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(),
                 &request, &response, [&](grpc::Status s) {
                   status = std::move(s);
                   done.Notify();
                 });
  done.WaitForNotification();
  if (!status.ok()) {
    return absl::UnavailableError(status.error_message());
  }
  std::vector<grpc::Slice> slices;
  response.Dump(&slices);
  std::string bytes;
  for (const grpc::Slice& s : slices) {
    bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return bytes;
}

TEST(NormalizeFingerprintTest, AcceptsColonsSpacesAndUpperCase) {
  EXPECT_EQ(NormalizeFingerprint(kCaFingerprint).value(), kCaFingerprint);
  EXPECT_EQ(NormalizeFingerprint(OpenSslStyle(kCaFingerprint)).value(),
            kCaFingerprint);
  std::string spaced = absl::StrCat("  ", kCaFingerprint, "\n");
  spaced.insert(10, " ");
  EXPECT_EQ(NormalizeFingerprint(spaced).value(), kCaFingerprint);
}

TEST(NormalizeFingerprintTest, RejectsWrongLengthOrNonHex) {
  const std::string fp = kCaFingerprint;
  for (const std::string& bad :
       {std::string(), fp.substr(0, 63), fp + "0", fp.substr(0, 63) + "g",
        absl::StrCat("sha256:", fp)}) {
    EXPECT_THAT(NormalizeFingerprint(bad),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << bad;
  }
}

TEST(FetchPinnedCaCertificateTest, ReturnsTheCaThatMatchesThePin) {
  PinnedServer server;
  ASSERT_TRUE(server.started());
  absl::StatusOr<std::string> ca =
      FetchPinnedCaCertificate(server.address(), kCaFingerprint, kTimeout);
  ASSERT_TRUE(ca.ok()) << ca.status();
  EXPECT_EQ(*ca, kCaPem);

  // The form `openssl x509 -fingerprint -sha256` prints works as well.
  ca = FetchPinnedCaCertificate(server.address(), OpenSslStyle(kCaFingerprint),
                                kTimeout);
  ASSERT_TRUE(ca.ok()) << ca.status();
  EXPECT_EQ(*ca, kCaPem);
}

TEST(FetchPinnedCaCertificateTest, WorksOverIpv6Loopback) {
  PinnedServer server("::1");
  if (!server.started()) {
    GTEST_SKIP() << "no IPv6 loopback here";
  }
  EXPECT_THAT(server.address(), ::testing::StartsWith("[::1]:"));
  absl::StatusOr<std::string> ca =
      FetchPinnedCaCertificate(server.address(), kCaFingerprint, kTimeout);
  ASSERT_TRUE(ca.ok()) << ca.status();
  EXPECT_EQ(*ca, kCaPem);
}

TEST(FetchPinnedCaCertificateTest, RefusesAnotherFingerprintNamingBoth) {
  PinnedServer server;
  ASSERT_TRUE(server.started());
  absl::StatusOr<std::string> ca =
      FetchPinnedCaCertificate(server.address(), kOtherCaFingerprint, kTimeout);
  EXPECT_THAT(ca, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(ca.status().message(),
            absl::StrCat("the server's CA fingerprint is ", kCaFingerprint,
                         " but you pinned ", kOtherCaFingerprint,
                         ": refusing to connect (wrong server, or a machine "
                         "in the middle)"));
}

TEST(FetchPinnedCaCertificateTest, RefusesAPinOfTheServersOwnCertificate) {
  PinnedServer server;
  ASSERT_TRUE(server.started());
  absl::StatusOr<std::string> ca = FetchPinnedCaCertificate(
      server.address(), kServerLeafFingerprint, kTimeout);
  EXPECT_THAT(ca, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(std::string(ca.status().message()),
              HasSubstr("not a CA certificate"));
}

TEST(FetchPinnedCaCertificateTest, RefusesAnImpostorThatShowsTheRealCa) {
  PinnedServer impostor("127.0.0.1", kImpostorKeyPem,
                        absl::StrCat(kImpostorLeafPem, kCaPem));
  ASSERT_TRUE(impostor.started());
  absl::StatusOr<std::string> ca =
      FetchPinnedCaCertificate(impostor.address(), kCaFingerprint, kTimeout);
  EXPECT_THAT(ca, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(std::string(ca.status().message()),
              HasSubstr("does not verify against the pinned CA"));
}

TEST(FetchPinnedCaCertificateTest, ClosedPortIsUnavailable) {
  SilentPort closed(/*listening=*/false);
  absl::StatusOr<std::string> ca =
      FetchPinnedCaCertificate(closed.address(), kCaFingerprint, kTimeout);
  EXPECT_THAT(ca, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(
      ca.status().message(),
      absl::StrCat("cannot reach ", closed.address(), ": connection refused"));
}

TEST(FetchPinnedCaCertificateTest, BracketedIpv6AddressIsDialled) {
  // Port 1 is closed (or IPv6 absent): either way a network error, which
  // shows the address was parsed.
  absl::StatusOr<std::string> ca =
      FetchPinnedCaCertificate("[::1]:1", kCaFingerprint, kTimeout);
  EXPECT_THAT(ca, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(std::string(ca.status().message()),
              ::testing::StartsWith("cannot reach [::1]:1: "));
}

TEST(FetchPinnedCaCertificateTest, SilentServerTimesOut) {
  SilentPort silent(/*listening=*/true);
  const absl::Time start = absl::Now();
  absl::StatusOr<std::string> ca = FetchPinnedCaCertificate(
      silent.address(), kCaFingerprint, absl::Milliseconds(300));
  EXPECT_THAT(ca, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(std::string(ca.status().message()), HasSubstr("timed out"));
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
}

TEST(FetchPinnedCaCertificateTest, RejectsMalformedArguments) {
  EXPECT_THAT(FetchPinnedCaCertificate("127.0.0.1:1", "abc", kTimeout),
              StatusIs(absl::StatusCode::kInvalidArgument));
  for (const char* bad :
       {"localhost", "localhost:", "localhost:0", "localhost:65536", "::1:7443",
        "[::1", ":7443", "[::1]7443", "host:port"}) {
    EXPECT_THAT(FetchPinnedCaCertificate(bad, kCaFingerprint, kTimeout),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << bad;
  }
}

TEST(FetchPinnedCaCertificateTest, FetchedCaLetsGrpcConnectAndCallHealth) {
  PinnedServer server;
  ASSERT_TRUE(server.started());
  absl::StatusOr<std::string> ca =
      FetchPinnedCaCertificate(server.address(), kCaFingerprint, kTimeout);
  ASSERT_TRUE(ca.ok()) << ca.status();

  // gRPC checks the address against the certificate's IP SAN 127.0.0.1.
  std::shared_ptr<grpc::Channel> channel =
      ChannelTrusting(server.address(), *ca);
  EXPECT_EQ(SettledState(*channel, kTimeout), GRPC_CHANNEL_READY);
  absl::StatusOr<std::string> health = HealthCheck(channel);
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(*health, std::string("\x08\x01"))  // status: SERVING
      << "got " << absl::CEscape(*health);
}

TEST(FetchPinnedCaCertificateTest, GrpcRefusesTheServerUnderAnotherCa) {
  PinnedServer server;
  ASSERT_TRUE(server.started());
  std::shared_ptr<grpc::Channel> channel =
      ChannelTrusting(server.address(), kOtherCaPem);
  EXPECT_EQ(SettledState(*channel, kTimeout), GRPC_CHANNEL_TRANSIENT_FAILURE);
  EXPECT_FALSE(HealthCheck(channel).ok());
}

}  // namespace
}  // namespace parley
