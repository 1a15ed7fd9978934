#include "server/log_service.h"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "parley/v1/log.grpc.pb.h"
#include "server/work_pool.h"
#include "storage/tlog/checkpoint.h"
#include "storage/tlog/merkle.h"
#include "storage/tlog/note.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"

namespace parley {
namespace {

using ::testing::HasSubstr;

constexpr char kOrigin[] = "service.test/log";

class LogServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(InitCrypto());
    key_.emplace(*Ed25519PrivateKey::FromSeed(std::string(32, 's')));
    const char* base = std::getenv("TEST_TMPDIR");
    std::string templ =
        std::string(base != nullptr ? base : "/tmp") + "/parley-logsvc-XXXXXX";
    dir_ = mkdtemp(templ.data());
    LogOptions o;
    o.path = dir_ + "/log";
    o.origin = kOrigin;
    o.signer = &*key_;
    o.clock = &clock_;
    o.background_checkpoints = false;
    ASSERT_OK_AND_ASSIGN(log_, LogStore::Open(o));
    StartServer({});
  }
  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
    server_.reset();
    service_.reset();
    pool_.reset();
    log_.reset();
    std::filesystem::remove_all(dir_);
  }
  void StartServer(LogServiceOptions options) {
    if (server_ != nullptr) server_->Shutdown();
    options.watch_poll = absl::Milliseconds(20);
    service_ = std::make_unique<LogService>(log_.get(), std::move(options));
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    stub_ = v1::Log::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  }
  void AppendN(int n) {
    for (int i = 0; i < n; ++i) {
      ASSERT_OK(log_->Append(absl::StrCat("entry ", log_->Size())).status());
    }
  }
  static std::unique_ptr<grpc::ClientContext> Context() {
    auto c = std::make_unique<grpc::ClientContext>();
    c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return c;
  }
  NoteVerifier Verifier() { return *ParseVerifierKey(log_->VerifierKey()); }

  testing::FakeClock clock_;
  std::optional<Ed25519PrivateKey> key_;
  std::string dir_;
  std::unique_ptr<LogStore> log_;
  std::unique_ptr<WorkPool> pool_;  // Set by tests that use one.
  std::unique_ptr<LogService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::Log::Stub> stub_;
};

TEST_F(LogServiceTest, GetCheckpointReturnsVerifiableNote) {
  AppendN(5);
  v1::Checkpoint cp;
  ASSERT_TRUE(stub_->GetCheckpoint(Context().get(), {}, &cp).ok());
  EXPECT_EQ(cp.size(), 0u);  // Not fresh: the latest signed one.

  v1::GetCheckpointRequest fresh;
  fresh.set_fresh(true);
  ASSERT_TRUE(stub_->GetCheckpoint(Context().get(), fresh, &cp).ok());
  EXPECT_EQ(cp.size(), 5u);
  EXPECT_EQ(cp.origin(), kOrigin);
  EXPECT_EQ(cp.verifier_key(), log_->VerifierKey());
  ASSERT_OK_AND_ASSIGN(SignedCheckpoint verified,
                       VerifyCheckpointNote(cp.note(), Verifier(), kOrigin));
  EXPECT_EQ(verified.root_hash, cp.root_hash());
}

// As parleyd runs it: fresh checkpoints are signed on the work pool. Many
// at once, with appends in between, each covers at least the size at the
// time it was asked for, and all are consistent.
TEST_F(LogServiceTest, FreshCheckpointsOnThePoolCoverEveryEarlierAppend) {
  pool_ = std::make_unique<WorkPool>(4);
  LogServiceOptions options;
  options.pool = pool_.get();
  StartServer(std::move(options));
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        if (!log_->Append(absl::StrCat("thread ", t, " entry ", i)).ok()) {
          ++failures;
        }
        const uint64_t asked_at = log_->Size();
        v1::GetCheckpointRequest fresh;
        fresh.set_fresh(true);
        v1::Checkpoint cp;
        if (!stub_->GetCheckpoint(Context().get(), fresh, &cp).ok() ||
            cp.size() < asked_at ||
            !VerifyCheckpointNote(cp.note(), Verifier(), kOrigin).ok()) {
          ++failures;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  ASSERT_OK_AND_ASSIGN(SignedCheckpoint latest, log_->LatestCheckpoint());
  EXPECT_EQ(latest.size, 20u);
  EXPECT_OK(log_->Audit());
}

TEST_F(LogServiceTest, InclusionProofAndTlogProofVerify) {
  AppendN(13);
  ASSERT_OK(log_->SignCheckpointNow().status());
  v1::GetInclusionProofRequest req;
  req.set_index(7);
  v1::InclusionProof proof;
  grpc::Status s = stub_->GetInclusionProof(Context().get(), req, &proof);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(proof.tree_size(), 13u);
  EXPECT_EQ(proof.leaf(), "entry 7");
  EXPECT_EQ(proof.leaf_hash(), LeafHash("entry 7"));
  std::vector<std::string> hashes(proof.hashes().begin(), proof.hashes().end());
  EXPECT_OK(VerifyInclusion(7, 13, LeafHash(proof.leaf()), hashes,
                            proof.checkpoint().root_hash()));
  EXPECT_OK(VerifyTlogProof(proof.tlog_proof(), "entry 7", Verifier(), kOrigin)
                .status());
}

TEST_F(LogServiceTest, IndexBeyondTreeIsOutOfRangeWithClearMessage) {
  AppendN(10);
  ASSERT_OK(log_->SignCheckpointNow().status());
  v1::GetInclusionProofRequest req;
  req.set_index(12);
  req.set_tree_size(10);
  v1::InclusionProof proof;
  grpc::Status s = stub_->GetInclusionProof(Context().get(), req, &proof);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_EQ(s.error_message(), "index 12 is beyond the tree size 10");

  // Appended but not yet checkpointed: the message says what to do.
  AppendN(5);
  req.set_tree_size(0);
  s = stub_->GetInclusionProof(Context().get(), req, &proof);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_THAT(s.error_message(), HasSubstr("latest checkpoint size 10"));

  v1::GetEntriesRequest entries_req;
  entries_req.set_start(40);
  v1::GetEntriesResponse entries;
  s = stub_->GetEntries(Context().get(), entries_req, &entries);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::OUT_OF_RANGE);
}

TEST_F(LogServiceTest, ConsistencyProofVerifies) {
  AppendN(6);
  ASSERT_OK_AND_ASSIGN(SignedCheckpoint old_cp, log_->SignCheckpointNow());
  AppendN(11);
  ASSERT_OK(log_->SignCheckpointNow().status());
  v1::GetConsistencyProofRequest req;
  req.set_size1(old_cp.size);
  v1::ConsistencyProof proof;
  ASSERT_TRUE(stub_->GetConsistencyProof(Context().get(), req, &proof).ok());
  EXPECT_EQ(proof.size2(), 17u);
  EXPECT_EQ(proof.root1(), old_cp.root_hash);
  std::vector<std::string> hashes(proof.hashes().begin(), proof.hashes().end());
  EXPECT_OK(VerifyConsistency(6, 17, proof.root1(), proof.root2(), hashes));

  req.set_size1(0);
  grpc::Status s = stub_->GetConsistencyProof(Context().get(), req, &proof);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(LogServiceTest, GetEntriesPages) {
  AppendN(30);
  LogServiceOptions options;
  options.max_page_bytes = 80;  // About ten "entry NN" a page.
  StartServer(std::move(options));
  std::vector<std::string> all;
  uint64_t next = 0;
  while (next < 30) {
    v1::GetEntriesRequest req;
    req.set_start(next);
    v1::GetEntriesResponse page;
    grpc::Status s = stub_->GetEntries(Context().get(), req, &page);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ASSERT_GT(page.entries_size(), 0);
    size_t bytes = 0;
    for (const v1::LogEntry& e : page.entries()) bytes += e.data().size();
    EXPECT_LE(bytes, 80u);
    EXPECT_LT(page.entries_size(), 30);
    for (const v1::LogEntry& e : page.entries()) {
      EXPECT_EQ(e.index(), all.size());
      all.push_back(e.data());
    }
    EXPECT_EQ(page.tree_size(), 30u);
    next = page.next_index();
  }
  EXPECT_EQ(all.size(), 30u);
  EXPECT_EQ(all[29], "entry 29");
}

TEST_F(LogServiceTest,
       AccessHookGuardsEntriesAndInclusionButNotCheckpointsOrConsistency) {
  AppendN(3);
  ASSERT_OK(log_->SignCheckpointNow().status());
  LogServiceOptions options;
  options.authorize_private_read =
      [](grpc::CallbackServerContext*) -> absl::StatusOr<EntryFilter> {
    return absl::PermissionDeniedError("not enrolled");
  };
  StartServer(std::move(options));
  v1::GetEntriesResponse entries;
  grpc::Status s = stub_->GetEntries(Context().get(), {}, &entries);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  v1::InclusionProof proof;
  s = stub_->GetInclusionProof(Context().get(), {}, &proof);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  v1::Checkpoint cp;
  EXPECT_TRUE(stub_->GetCheckpoint(Context().get(), {}, &cp).ok());
  v1::GetConsistencyProofRequest consistency;
  consistency.set_size1(1);
  v1::ConsistencyProof cproof;
  EXPECT_TRUE(
      stub_->GetConsistencyProof(Context().get(), consistency, &cproof).ok());
}

TEST_F(LogServiceTest, WatchCheckpointsStreamsCurrentThenNewOnes) {
  AppendN(2);
  ASSERT_OK(log_->SignCheckpointNow().status());
  auto context = Context();
  v1::WatchCheckpointsRequest req;
  req.set_after_size(0);
  std::unique_ptr<grpc::ClientReader<v1::Checkpoint>> reader =
      stub_->WatchCheckpoints(context.get(), req);
  v1::Checkpoint cp;
  ASSERT_TRUE(reader->Read(&cp));
  EXPECT_EQ(cp.size(), 2u);
  AppendN(3);
  ASSERT_OK(log_->SignCheckpointNow().status());
  ASSERT_TRUE(reader->Read(&cp));
  EXPECT_EQ(cp.size(), 5u);
  EXPECT_OK(VerifyCheckpointNote(cp.note(), Verifier(), kOrigin).status());

  // Cancelling ends the stream promptly (the watcher thread exits).
  auto start = std::chrono::steady_clock::now();
  context->TryCancel();
  EXPECT_FALSE(reader->Read(&cp));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_F(LogServiceTest, ServerShutdownEndsOpenWatches) {
  auto context = Context();
  v1::WatchCheckpointsRequest req;
  req.set_after_size(100);  // Never satisfied.
  std::unique_ptr<grpc::ClientReader<v1::Checkpoint>> reader =
      stub_->WatchCheckpoints(context.get(), req);
  std::this_thread::yield();
  server_->Shutdown(std::chrono::system_clock::now() +
                    std::chrono::milliseconds(200));
  v1::Checkpoint cp;
  EXPECT_FALSE(reader->Read(&cp));
  EXPECT_FALSE(reader->Finish().ok());
}

}  // namespace
}  // namespace parley
