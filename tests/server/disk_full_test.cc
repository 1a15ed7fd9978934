// parleyd on a disk that fills up (issue #17, item 7), for real: the data
// directory lives on a small tmpfs that the test fills. Writes are refused
// before the disk is full, never abort the process, are reported in the
// health service, and resume by themselves once space returns, while reads,
// subscriptions and proofs go on. Needs root (mount); skipped otherwise.

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <future>

#include "grpcpp/generic/generic_stub.h"
#include "tests/server/server_test_util.h"

namespace parley::testing {
namespace {

constexpr uint64_t kMiB = 1 << 20;

uint64_t FreeBytes(const std::string& path) {
  struct statvfs fs;
  if (statvfs(path.c_str(), &fs) != 0) return 0;
  return static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
}

// Appends to `path` until the file system has at most `leave` bytes free
// (0: until it refuses with ENOSPC).
void Fill(const std::string& path, uint64_t leave) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  std::string block(64 * 1024, 'f');
  while (true) {
    uint64_t free = FreeBytes(path);
    if (leave > 0 && free <= leave) break;
    size_t n = leave > 0 ? std::min<uint64_t>(block.size(), free - leave)
                         : block.size();
    ssize_t w = ::write(fd, block.data(), n);
    if (w < 0) {
      ASSERT_EQ(errno, ENOSPC) << std::strerror(errno);
      break;
    }
  }
  ::fsync(fd);
  ::close(fd);
}

class DiskFullTest : public ServerTest {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) {
      GTEST_SKIP() << "needs root to mount a small tmpfs for the data "
                      "directory (CI and ./test.sh as root run it)";
    }
    disk_ = tmp_.path();
    ASSERT_EQ(::mount("tmpfs", disk_.c_str(), "tmpfs", 0, "size=64m"), 0)
        << std::strerror(errno);
    mounted_ = true;
    ServerTest::SetUp();
  }
  void TearDown() override {
    StopServer();
    if (mounted_) ::umount2(disk_.c_str(), MNT_DETACH);
  }
  void Configure(ServerConfig& config) override {
    config.min_free_disk_bytes = 24 * kMiB;
  }

  // grpc.health.v1.Health/Check for `service`: 1 SERVING, 2 NOT_SERVING,
  // -1 on failure.
  int Health(const std::string& service) {
    grpc::GenericStub stub(channel_);
    grpc::ClientContext context;
    std::string request = std::string(1, 0x0A) +
                          std::string(1, static_cast<char>(service.size())) +
                          service;
    grpc::Slice slice(request);
    grpc::ByteBuffer in(&slice, 1), out;
    std::promise<grpc::Status> done;
    stub.UnaryCall(&context, "/grpc.health.v1.Health/Check",
                   grpc::StubOptions(), &in, &out,
                   [&done](grpc::Status s) { done.set_value(s); });
    if (!done.get_future().get().ok()) return -1;
    std::vector<grpc::Slice> slices;
    if (!out.Dump(&slices).ok()) return -1;
    std::string bytes;
    for (const grpc::Slice& s : slices) {
      bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
    return bytes.size() == 2 && bytes[0] == 0x08 ? bytes[1] : -1;
  }

  // Waits (real time; the server checks twice a second) for `service` to
  // report `status`.
  bool AwaitHealth(const std::string& service, int status) {
    for (int i = 0; i < 100; ++i) {
      if (Health(service) == status) return true;
      absl::SleepFor(absl::Milliseconds(50));
    }
    return false;
  }

  std::string disk_;
  bool mounted_ = false;
};

TEST_F(DiskFullTest, WritesRefusedBeforeTheDiskFillsAndResumeWithoutRestart) {
  StandardCast();
  uint64_t first = SendText(device("a"), "ab", "before the disk filled");
  auto stream = Subscribe(device("b"), 0, /*from_start=*/true);
  ASSERT_TRUE(stream->Next().has_value());

  // Below the reserve: refused, nothing logged, the process serves reads.
  const std::string filler = disk_ + "/filler";
  ASSERT_NO_FATAL_FAILURE(Fill(filler, 16 * kMiB));
  const uint64_t size = TreeSize();
  Sealed refused = Seal(device("a"), "ab", "while the disk is full",
                        MembersOf(device("a"), "ab"));
  grpc::Status s = Send(device("a"), "ab", refused);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << Describe(s);
  EXPECT_THAT(s.error_message(), ::testing::HasSubstr("reserve"));
  EXPECT_EQ(TreeSize(), size);
  EXPECT_TRUE(AwaitHealth("parley.v1.Channels", 2));
  EXPECT_EQ(Health("parley.v1.Log"), 1);
  EXPECT_EQ(Health(""), 1);
  {
    grpc::ClientContext context;
    Authorize(&context, device("a"));
    v1::GetInclusionProofRequest r;
    r.set_index(first);
    r.set_tree_size(size);
    v1::InclusionProof proof;
    s = log_->GetInclusionProof(&context, r, &proof);
    EXPECT_TRUE(s.ok()) << Describe(s);
  }
  auto late = Subscribe(device("a"), 0, /*from_start=*/true);
  EXPECT_TRUE(late->Next().has_value());

  // Completely full (0 bytes): still refused cleanly, no abort.
  ASSERT_NO_FATAL_FAILURE(Fill(filler, 0));
  s = Send(device("a"), "ab", refused);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << Describe(s);
  EXPECT_EQ(TreeSize(), size);

  // Space returns: writes go through again, without a restart.
  ASSERT_EQ(::unlink(filler.c_str()), 0);
  EXPECT_TRUE(AwaitHealth("parley.v1.Channels", 1));
  v1::SendResponse response;
  s = Send(device("a"), "ab", refused, &response);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(response.log_index(), size);
  bool delivered = false;
  while (std::optional<v1::Delivery> d = stream->Next()) {
    if (d->index() == size) {
      delivered = true;
      break;
    }
  }
  EXPECT_TRUE(delivered);
}

}  // namespace
}  // namespace parley::testing
