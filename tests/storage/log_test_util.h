#ifndef PARLEY_TESTS_STORAGE_LOG_TEST_UTIL_H_
#define PARLEY_TESTS_STORAGE_LOG_TEST_UTIL_H_

// Shared fixtures for the LogStore tests: scratch directories, a fixed log
// key, and raw RocksDB access for damaging a store on purpose.

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "crypto/ed25519.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "storage/log_store.h"
#include "tests/testing/fake_clock.h"

namespace parley::testing {

inline constexpr char kTestOrigin[] = "parley.test/log";

// A fresh directory under the test temp dir, removed by the destructor.
class ScratchDir {
 public:
  ScratchDir() {
    const char* base = std::getenv("TEST_TMPDIR");
    std::string templ = std::string(base != nullptr ? base : "/tmp") +
                        "/parley-log-XXXXXX";
    path_ = mkdtemp(templ.data());
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Calls InitCrypto() first, so it may initialise a fixture member.
inline Ed25519PrivateKey TestLogKey(char fill = 1) {
  EXPECT_TRUE(InitCrypto().ok());
  return *Ed25519PrivateKey::FromSeed(std::string(32, fill));
}

// Raw RocksDB over a closed LogStore directory, every family open.
class RawLogDb {
 public:
  explicit RawLogDb(const std::string& path) {
    std::vector<std::string> names;
    EXPECT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path,
                                                &names)
                    .ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const std::string& n : names) {
      descriptors.emplace_back(n, rocksdb::ColumnFamilyOptions());
    }
    rocksdb::DB* db = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(rocksdb::DBOptions(), path,
                                          descriptors, &handles_, &db);
    EXPECT_TRUE(s.ok()) << s.ToString();
    db_.reset(db);
    for (size_t i = 0; i < names.size(); ++i) {
      by_name_.emplace_back(names[i], handles_[i]);
    }
  }
  ~RawLogDb() {
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
    db_->Close().PermitUncheckedError();
  }
  rocksdb::DB* db() { return db_.get(); }
  rocksdb::ColumnFamilyHandle* family(const std::string& name) {
    for (auto& [n, h] : by_name_) {
      if (n == name) return h;
    }
    ADD_FAILURE() << "no family " << name;
    return nullptr;
  }
  std::string Get(const std::string& family_name, const std::string& key) {
    std::string value;
    rocksdb::Status s =
        db_->Get(rocksdb::ReadOptions(), family(family_name), key, &value);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return value;
  }
  void Put(const std::string& family_name, const std::string& key,
           const std::string& value) {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    rocksdb::Status s = db_->Put(wo, family(family_name), key, value);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  void Delete(const std::string& family_name, const std::string& key) {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    rocksdb::Status s = db_->Delete(wo, family(family_name), key);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  // Paths of the SST files that hold `family_name`, after flushing it.
  std::vector<std::string> TableFiles(const std::string& family_name) {
    rocksdb::ColumnFamilyHandle* cf = family(family_name);
    EXPECT_TRUE(db_->Flush(rocksdb::FlushOptions(), cf).ok());
    rocksdb::ColumnFamilyMetaData meta;
    db_->GetColumnFamilyMetaData(cf, &meta);
    std::vector<std::string> out;
    for (const auto& level : meta.levels) {
      for (const auto& file : level.files) {
        out.push_back(file.db_path + "/" + file.name);
      }
    }
    return out;
  }
  // Flips one bit of the stored value.
  void FlipByte(const std::string& family_name, const std::string& key,
                size_t byte = 0) {
    std::string v = Get(family_name, key);
    ASSERT_FALSE(v.empty());
    v[byte % v.size()] ^= 0x01;
    Put(family_name, key, v);
  }

 private:
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::vector<std::pair<std::string, rocksdb::ColumnFamilyHandle*>> by_name_;
};

// Flips one bit of the byte at `offset` of a file (from the end if
// negative): damage below RocksDB, which its checksums catch.
inline void FlipFileByte(const std::string& path, long offset) {
  std::FILE* f = std::fopen(path.c_str(), "r+b");
  ASSERT_NE(f, nullptr) << path;
  std::fseek(f, offset, offset < 0 ? SEEK_END : SEEK_SET);
  int c = std::fgetc(f);
  ASSERT_NE(c, EOF) << path;
  std::fseek(f, -1, SEEK_CUR);
  std::fputc(c ^ 0x01, f);
  std::fclose(f);
}

}  // namespace parley::testing

#endif  // PARLEY_TESTS_STORAGE_LOG_TEST_UTIL_H_
