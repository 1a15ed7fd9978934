// The client never skips a log entry it cannot verify, end to end: real
// parleyd and parley processes, with a TLS proxy between them (it presents
// the server's own certificate, so the client's CA pin holds) that flips one
// bit of a chosen entry in Channels/Subscribe, as a broken or malicious
// server would. And the client refuses, before anything is queued, input
// the server could never log: invalid geometry (GEOS) and envelopes over
// the server's size limit.

#include <algorithm>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/async_generic_service.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/support/sync_stream.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "parley/v1/channels.pb.h"
#include "tests/testing/parley_processes.h"
#include "tests/testing/subprocess.h"

namespace parley {
namespace {

using ::parley::testing::ProcessResult;
using ::parley::testing::Rfc3339;
using ::parley::testing::Slurp;
using ::parley::testing::WriteFile;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::json;

constexpr char kSubscribe[] = "/parley.v1.Channels/Subscribe";

// Changes a Subscribe delivery in flight; returns true if it changed it.
using Tamper = std::function<bool(v1::Delivery*)>;

// A gRPC proxy for every method of parleyd: each call's one request is
// forwarded with the caller's metadata and deadline, its answers (one for
// unary calls, many for streams) come back in order, then its status and
// trailing metadata. Subscribe deliveries pass through the tamper function
// set last. Thread-safe.
class TamperingProxy {
 public:
  // Listens on 127.0.0.1 with `data`/tls/server.crt and .key and forwards to
  // `upstream`, trusting `data`/tls/ca.crt.
  TamperingProxy(const std::string& data, const std::string& upstream) {
    grpc::SslCredentialsOptions client_tls;
    client_tls.pem_root_certs = Slurp(data + "/tls/ca.crt");
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(64 << 20);
    upstream_ = grpc::CreateCustomChannel(
        upstream, grpc::SslCredentials(client_tls), args);
    grpc::SslServerCredentialsOptions server_tls;
    server_tls.pem_key_cert_pairs.push_back(
        {Slurp(data + "/tls/server.key"), Slurp(data + "/tls/server.crt")});
    service_ = std::make_unique<Service>(this);
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0",
                             grpc::SslServerCredentials(server_tls), &port_);
    builder.SetMaxReceiveMessageSize(64 << 20);
    builder.RegisterCallbackGenericService(service_.get());
    server_ = builder.BuildAndStart();
  }
  ~TamperingProxy() {
    if (server_ != nullptr) server_->Shutdown(absl::ToChronoTime(absl::Now()));
  }

  bool ready() const { return server_ != nullptr && port_ > 0; }
  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }
  void set_tamper(Tamper tamper) {
    absl::MutexLock lock(&mu_);
    tamper_ = std::move(tamper);
  }
  int tampered() {
    absl::MutexLock lock(&mu_);
    return tampered_;
  }

 private:
  // One forwarded call; deletes itself when done.
  class Call : public grpc::ServerGenericBidiReactor {
   public:
    Call(TamperingProxy* proxy, grpc::GenericCallbackServerContext* context)
        : proxy_(proxy), context_(context) {
      StartRead(&request_);
    }
    void OnReadDone(bool ok) override {
      if (!ok) {
        Finish(grpc::Status(grpc::StatusCode::INTERNAL, "no request"));
        return;
      }
      std::thread([this] { Forward(); }).detach();
    }
    void OnWriteDone(bool ok) override {
      absl::MutexLock lock(&mu_);
      write_pending_ = false;
      write_ok_ = ok;
    }
    void OnCancel() override {
      absl::MutexLock lock(&mu_);
      cancelled_ = true;
      if (upstream_ != nullptr) upstream_->TryCancel();
    }
    void OnDone() override { delete this; }

   private:
    // Runs the call upstream; its last touch of `this` is Finish.
    void Forward() {
      grpc::ClientContext upstream;
      for (const auto& [key, value] : context_->client_metadata()) {
        const std::string k(key.data(), key.size());
        if (k.rfind("grpc-", 0) == 0 || k == "user-agent") continue;
        upstream.AddMetadata(k, std::string(value.data(), value.size()));
      }
      upstream.set_deadline(context_->deadline());
      {
        absl::MutexLock lock(&mu_);
        upstream_ = &upstream;
        if (cancelled_) upstream.TryCancel();
      }
      const grpc::internal::RpcMethod method(
          context_->method().c_str(),
          grpc::internal::RpcMethod::SERVER_STREAMING);
      std::unique_ptr<grpc::ClientReader<grpc::ByteBuffer>> reader(
          grpc::internal::ClientReaderFactory<grpc::ByteBuffer>::Create(
              proxy_->upstream_.get(), method, &upstream, request_));
      grpc::ByteBuffer answer;
      while (reader->Read(&answer)) {
        if (context_->method() == kSubscribe) proxy_->MaybeTamper(&answer);
        if (!WriteAndWait(answer)) {
          upstream.TryCancel();
          break;
        }
      }
      grpc::Status status = reader->Finish();
      {
        absl::MutexLock lock(&mu_);
        upstream_ = nullptr;
      }
      for (const auto& [key, value] : upstream.GetServerTrailingMetadata()) {
        context_->AddTrailingMetadata(std::string(key.data(), key.size()),
                                      std::string(value.data(), value.size()));
      }
      Finish(status);
    }
    bool WriteAndWait(const grpc::ByteBuffer& answer) {
      {
        absl::MutexLock lock(&mu_);
        write_pending_ = true;
      }
      StartWrite(&answer);
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](bool* pending) { return !*pending; }, &write_pending_));
      return write_ok_;
    }

    TamperingProxy* proxy_;
    grpc::GenericCallbackServerContext* context_;
    grpc::ByteBuffer request_;
    absl::Mutex mu_;
    bool write_pending_ ABSL_GUARDED_BY(mu_) = false;
    bool write_ok_ ABSL_GUARDED_BY(mu_) = true;
    bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
    grpc::ClientContext* upstream_ ABSL_GUARDED_BY(mu_) = nullptr;
  };

  class Service : public grpc::CallbackGenericService {
   public:
    explicit Service(TamperingProxy* proxy) : proxy_(proxy) {}
    grpc::ServerGenericBidiReactor* CreateReactor(
        grpc::GenericCallbackServerContext* context) override {
      return new Call(proxy_, context);
    }

   private:
    TamperingProxy* proxy_;
  };

  void MaybeTamper(grpc::ByteBuffer* answer) {
    absl::MutexLock lock(&mu_);
    if (!tamper_) return;
    std::vector<grpc::Slice> slices;
    if (!answer->Dump(&slices).ok()) return;
    std::string bytes;
    for (const grpc::Slice& s : slices) {
      bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
    v1::Delivery delivery;
    if (!delivery.ParseFromString(bytes) || !tamper_(&delivery)) return;
    ++tampered_;
    const std::string changed = delivery.SerializeAsString();
    grpc::Slice slice(changed);
    *answer = grpc::ByteBuffer(&slice, 1);
  }

  std::shared_ptr<grpc::Channel> upstream_;
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  absl::Mutex mu_;
  Tamper tamper_ ABSL_GUARDED_BY(mu_);
  int tampered_ ABSL_GUARDED_BY(mu_) = 0;
};

// Flips one bit near the end of entry `index` (inside its envelope's
// signature or ciphertext) whenever it is delivered.
Tamper FlipBitOfEntry(uint64_t index) {
  return [index](v1::Delivery* d) {
    if (d->index() != index || d->entry().size() < 16) return false;
    std::string* entry = d->mutable_entry();
    (*entry)[entry->size() - 10] ^= 0x04;
    return true;
  };
}

class ClientIntegrityTest : public ::parley::testing::EnrolledServerTest {
 protected:
  std::string Profile(const std::string& who) const {
    return tmp_.Sub("clients") + "/" + who;
  }
  // `parley --server SERVER --ca-fingerprint CA ARGS...` as `who`.
  ProcessResult RunVia(const std::string& server, const std::string& who,
                       std::vector<std::string> args) const {
    args.insert(args.begin(), {"--server", server, "--ca-fingerprint",
                               init_["ca_fingerprint"].get<std::string>()});
    return cli_.Run(who, args);
  }
  // Files in `who`'s evidence directory.
  std::vector<std::string> Rejected(const std::string& who) const {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& f :
         std::filesystem::directory_iterator(Profile(who) + "/rejected", ec)) {
      names.push_back(f.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }
  static std::vector<std::string> Texts(const Json& inbox) {
    std::vector<std::string> texts;
    for (const Json& m : inbox.value("messages", Json::array())) {
      if (m.contains("text")) texts.push_back(m["text"].get<std::string>());
    }
    return texts;
  }
};

TEST_F(ClientIntegrityTest,
       InboxNeverSkipsATamperedEntryAndShowsItOnceGenuine) {
  cli_.RunOk("mediator",
             {"channel", "create", "bc-1", "--members", "partya,partyb"});
  cli_.RunOk("partya", {"send", "bc-1", "--text", "before"});
  Json sent = cli_.RunOk("partya", {"send", "bc-1", "--text", "genuine"});
  const uint64_t index = sent["log_index"].get<uint64_t>();
  ASSERT_GT(index, 0u) << sent;

  TamperingProxy proxy(tmp_.Sub("data"), server_->address());
  ASSERT_TRUE(proxy.ready());
  proxy.set_tamper(FlipBitOfEntry(index));

  // The bad copy: exit 5 naming the index and the reason; what came before
  // it is shown; the bytes are kept.
  ProcessResult bad = RunVia(proxy.address(), "partyb", {"inbox"});
  ASSERT_GE(proxy.tampered(), 1)
      << "the proxy never saw entry " << index << ": " << bad.out << bad.err;
  EXPECT_EQ(bad.exit_code, 5) << bad.out << bad.err;
  EXPECT_THAT(bad.err, HasSubstr(absl::StrCat("log entry ", index,
                                              " failed verification")));
  EXPECT_THAT(bad.err, HasSubstr("signature"));
  Json shown = Json::parse(bad.out, nullptr, false);
  ASSERT_TRUE(shown.is_object()) << bad.out;
  EXPECT_THAT(Texts(shown), Contains("before")) << shown;
  EXPECT_THAT(Texts(shown), Not(Contains("genuine"))) << shown;
  EXPECT_LT(shown["cursor"].get<uint64_t>(), index) << shown;
  std::vector<std::string> kept = Rejected("partyb");
  ASSERT_EQ(kept.size(), 2u) << bad.err;  // NNN-HASH.entry and .json
  EXPECT_EQ(kept[0].rfind(absl::StrCat(index, "-"), 0), 0u) << kept[0];
  EXPECT_THAT(bad.err, HasSubstr(kept[0]));

  // Tried again on the next sync, refused again.
  ProcessResult again = RunVia(proxy.address(), "partyb", {"inbox"});
  EXPECT_EQ(again.exit_code, 5) << again.err;
  EXPECT_EQ(Rejected("partyb").size(), 2u);  // the same bad copy, kept once

  // The genuine entry is shown once the server delivers it.
  ProcessResult good = RunVia(server_->address(), "partyb", {"inbox"});
  ASSERT_EQ(good.exit_code, 0) << good.err;
  Json inbox = Json::parse(good.out, nullptr, false);
  EXPECT_THAT(Texts(inbox), Contains("genuine")) << inbox;
  EXPECT_THAT(Texts(inbox), Not(Contains("before"))) << inbox;
}

// Message text comes from another member: `parley inbox` prints it with
// control characters escaped, so it cannot recolour, move the cursor or
// retitle the reader's terminal (PROTOCOL.md 6.7). Arabic text passes.
TEST_F(ClientIntegrityTest, InboxEscapesTerminalControlsInMessageText) {
  cli_.RunOk("mediator",
             {"channel", "create", "bc-esc", "--members", "partya,partyb"});
  const std::string hostile =
      "\x1b[2J\x1b]0;pwned\x07\x1b[31mmeet at \xd8\xa7\xd9\x84\xd8\xac\xd8\xb3\xd8\xb1";
  cli_.RunOk("partya", {"send", "bc-esc", "--text", hostile});
  ProcessResult shown = cli_.Run("partyb", {"inbox"}, /*json=*/false);
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_EQ(shown.out.find('\x1b'), std::string::npos) << shown.out;
  EXPECT_EQ(shown.out.find('\x07'), std::string::npos) << shown.out;
  EXPECT_THAT(shown.out, HasSubstr("\\x1b[2J\\x1b]0;pwned\\x07\\x1b[31mmeet at "
                                   "\xd8\xa7\xd9\x84\xd8\xac\xd8\xb3\xd8\xb1"));
}

TEST_F(ClientIntegrityTest, SyncNeverSkipsATamperedNotification) {
  Json site = cli_.RunOk(
      "coordinator",
      {"notify", "site", "--id", "site-1", "--to", "partya", "--name",
       "Al Amal hospital", "--type", "health-facility", "--point",
       "36.2021,37.1343", "--contact", "Site manager,+963111111"});
  const uint64_t index = site["log_index"].get<uint64_t>();
  ASSERT_GT(index, 0u) << site;

  TamperingProxy proxy(tmp_.Sub("data"), server_->address());
  ASSERT_TRUE(proxy.ready());
  proxy.set_tamper(FlipBitOfEntry(index));
  ProcessResult bad = RunVia(proxy.address(), "partya", {"sync"});
  ASSERT_GE(proxy.tampered(), 1);
  EXPECT_EQ(bad.exit_code, 5) << bad.out << bad.err;
  EXPECT_THAT(bad.err, HasSubstr(absl::StrCat("log entry ", index,
                                              " failed verification")));
  EXPECT_EQ(Rejected("partya").size(), 2u);

  ProcessResult good = RunVia(server_->address(), "partya", {"inbox"});
  ASSERT_EQ(good.exit_code, 0) << good.err;
  Json inbox = Json::parse(good.out, nullptr, false);
  ASSERT_TRUE(inbox.is_object()) << good.out;
  std::vector<uint64_t> indexes;
  for (const Json& e : inbox["events"]) {
    if (e.value("notification_id", "") == "site-1" && !e.contains("error")) {
      indexes.push_back(e["index"].get<uint64_t>());
    }
  }
  EXPECT_THAT(indexes, Contains(index)) << inbox;
}

TEST_F(ClientIntegrityTest, BowTieSitePolygonIsRefusedWithTheGeosReason) {
  const std::string polygon = tmp_.Sub("bowtie.geojson");
  // (37.10,36.20) -> (37.20,36.30) -> (37.20,36.20) -> (37.10,36.30): the
  // edges cross at lon 37.15, lat 36.25.
  WriteFile(polygon,
            R"({"type":"Polygon","coordinates":[[[37.10,36.20],[37.20,36.30],)"
            R"([37.20,36.20],[37.10,36.30],[37.10,36.20]]]})");
  ProcessResult r = cli_.Run(
      "coordinator", {"notify", "site", "--id", "site-bt", "--to", "partya",
                      "--name", "Warehouse", "--type", "warehouse", "--polygon",
                      polygon, "--contact", "Site manager,+963111111"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_THAT(r.err,
              HasSubstr("Self-intersection at or near point 36.25,37.15"));
  Json outbox = cli_.RunOk("coordinator", {"outbox"});
  EXPECT_TRUE(outbox["outbox"].empty()) << outbox;
  ProcessResult shown =
      cli_.Run("coordinator", {"notification", "show", "site-bt"});
  EXPECT_EQ(shown.exit_code, 6) << "logged after all: " << shown.out;
}

TEST_F(ClientIntegrityTest, RouteOverTheServerLimitIsRefusedNotQueued) {
  // 20,000 points: about 800 KB of content, over the 256 KiB default.
  std::string coordinates;
  for (int i = 0; i < 20000; ++i) {
    absl::StrAppend(&coordinates, i == 0 ? "" : ",", "[", 36.0 + i * 0.00001,
                    ",", 37.0 + i * 0.00001, "]");
  }
  const std::string route = tmp_.Sub("long-route.geojson");
  WriteFile(route, absl::StrCat(R"({"type":"LineString","coordinates":[)",
                                coordinates, "]}"));
  const absl::Time now = absl::Now();
  ProcessResult r = cli_.Run(
      "coordinator",
      {"notify", "movement", "--id", "mv-long", "--to", "partya", "--route",
       route, "--depart", Rfc3339(now + absl::Hours(72)), "--arrive",
       Rfc3339(now + absl::Hours(75)), "--vehicles", "1xtruck:soft-skin",
       "--personnel", "2", "--contact", "Ops desk,+41221234567"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("over the server's limit of 262144 bytes"));
  EXPECT_THAT(r.err, HasSubstr("nothing was queued"));
  Json outbox = cli_.RunOk("coordinator", {"outbox"});
  EXPECT_TRUE(outbox["outbox"].empty()) << outbox;
}

}  // namespace
}  // namespace parley
