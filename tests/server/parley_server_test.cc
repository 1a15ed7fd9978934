#include "server/parley_server.h"

#include <future>

#include "crypto/file_util.h"
#include "openssl/pem.h"
#include "openssl/x509.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "parley/v1/info.grpc.pb.h"
#include "server/data_dir.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/subprocess.h"

namespace parley {
namespace {

using ::parley::testing::StatusIs;

class ParleyServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    InitOptions init;
    init.origin = "server.test/log";
    init.now = clock_.Now();
    ASSERT_OK_AND_ASSIGN(InitResult result,
                         InitDataDir(tmp_.Sub("data"), init));
    init_ = result;
    config_.data = tmp_.Sub("data");
    config_.listen = "127.0.0.1:0";
    config_.shutdown_grace = absl::Seconds(2);
  }

  std::shared_ptr<grpc::Channel> PinnedChannel(int port,
                                               const std::string& ca_pem) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ca_pem;
    return grpc::CreateChannel("localhost:" + std::to_string(port),
                               grpc::SslCredentials(ssl));
  }

  // grpc.health.v1.Health/Check with an empty service name; returns the
  // serving status (1 = SERVING) or -1 on RPC failure.
  int HealthCheck(const std::shared_ptr<grpc::Channel>& channel) {
    grpc::GenericStub stub(channel);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(10));
    grpc::ByteBuffer request;  // HealthCheckRequest{} encodes to nothing.
    grpc::Slice empty("");
    request = grpc::ByteBuffer(&empty, 1);
    grpc::ByteBuffer response;
    std::promise<grpc::Status> done;
    stub.UnaryCall(&context, "/grpc.health.v1.Health/Check",
                   grpc::StubOptions(), &request, &response,
                   [&done](grpc::Status s) { done.set_value(s); });
    grpc::Status status = done.get_future().get();
    if (!status.ok()) return -1;
    std::vector<grpc::Slice> slices;
    if (!response.Dump(&slices).ok()) return -1;
    std::string bytes;
    for (const grpc::Slice& s : slices) {
      bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
    // HealthCheckResponse{status = SERVING} is 08 01.
    if (bytes.size() == 2 && bytes[0] == 0x08) return bytes[1];
    return bytes.empty() ? 0 : -2;
  }

  testing::FakeClock clock_;
  testing::TempDir tmp_;
  InitResult init_;
  ServerConfig config_;
};

TEST_F(ParleyServerTest, HealthCheckAndInfoOverPinnedTlsOnPortZero) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ParleyServer> server,
                       ParleyServer::Start(config_, clock_));
  ASSERT_GT(server->port(), 0);
  EXPECT_EQ(server->ca_fingerprint(), init_.ca_fingerprint);
  ASSERT_OK_AND_ASSIGN(std::string ca, ReadFile(tmp_.Sub("data/tls/ca.crt")));
  auto channel = PinnedChannel(server->port(), ca);
  EXPECT_EQ(HealthCheck(channel), 1);

  auto stub = v1::Info::NewStub(channel);
  grpc::ClientContext context;
  v1::ServerInfo info;
  ASSERT_TRUE(stub->GetServerInfo(&context, {}, &info).ok());
  EXPECT_EQ(info.origin(), "server.test/log");
  EXPECT_EQ(info.verifier_key(), init_.verifier_key);
  EXPECT_EQ(info.version(), ParleydVersion());
  server->Shutdown();
}

TEST_F(ParleyServerTest, ChannelPinnedToAnotherCaCannotConnect) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ParleyServer> server,
                       ParleyServer::Start(config_, clock_));
  InitOptions other;
  other.now = clock_.Now();
  ASSERT_OK(InitDataDir(tmp_.Sub("other"), other).status());
  ASSERT_OK_AND_ASSIGN(std::string other_ca,
                       ReadFile(tmp_.Sub("other/tls/ca.crt")));
  EXPECT_EQ(HealthCheck(PinnedChannel(server->port(), other_ca)), -1);
}

TEST_F(ParleyServerTest, ShutdownIsGracefulAndIdempotentThenRestartReuses) {
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<ParleyServer> server,
                         ParleyServer::Start(config_, clock_));
    server->Shutdown();
    server->Shutdown();
  }
  // The log was closed cleanly: the same directory opens again.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ParleyServer> again,
                       ParleyServer::Start(config_, clock_));
  EXPECT_EQ(again->ca_fingerprint(), init_.ca_fingerprint);
}

TEST_F(ParleyServerTest, SecondServerOnSameDataDirectoryIsRefused) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ParleyServer> server,
                       ParleyServer::Start(config_, clock_));
  // RocksDB's LOCK file keeps a second process (or instance) out.
  EXPECT_FALSE(ParleyServer::Start(config_, clock_).ok());
}

TEST_F(ParleyServerTest, ExpiredCertificateIsRefusedAtStart) {
  testing::FakeClock later(clock_.Now() + absl::Hours(24 * 800));
  EXPECT_THAT(ParleyServer::Start(config_, later),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

// A byte of the server certificate's signature flipped (the file still
// parses and still matches its key): the start fails, naming the file, where
// it used to start and then fail every TLS handshake.
TEST_F(ParleyServerTest, DamagedServerCertificateStopsTheStart) {
  const std::string path = config_.data + "/tls/server.crt";
  ASSERT_OK_AND_ASSIGN(std::string pem, ReadFile(path));
  BIO* in = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* leaf = PEM_read_bio_X509(in, nullptr, nullptr, nullptr);
  std::string rest(pem.substr(pem.find("-----END CERTIFICATE-----") + 26));
  BIO_free(in);
  ASSERT_NE(leaf, nullptr);
  unsigned char* der = nullptr;
  int len = i2d_X509(leaf, &der);
  X509_free(leaf);
  ASSERT_GT(len, 0);
  der[len - 1] ^= 0x01;  // the last byte of the signature
  const unsigned char* p = der;
  X509* damaged = d2i_X509(nullptr, &p, len);
  OPENSSL_free(der);
  ASSERT_NE(damaged, nullptr);
  BIO* out = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(out, damaged);
  X509_free(damaged);
  char* data = nullptr;
  long out_len = BIO_get_mem_data(out, &data);
  std::string damaged_pem(data, out_len);
  BIO_free(out);
  ASSERT_OK(WriteFileAtomically(path, damaged_pem + rest, 0644));

  absl::StatusOr<std::unique_ptr<ParleyServer>> server =
      ParleyServer::Start(config_, clock_);
  ASSERT_FALSE(server.ok());
  EXPECT_THAT(std::string(server.status().message()),
              ::testing::HasSubstr("tls/server.crt"));
  EXPECT_THAT(std::string(server.status().message()),
              ::testing::HasSubstr("signature"));
}

}  // namespace
}  // namespace parley
