// LogStore benchmarks (Google Benchmark). Not a timed test: run by hand.
//
//   BM_LogAppend/threads:N      synced appends through group commit
//   BM_RawSyncedPut/threads:N   raw RocksDB Put(sync=true) of the same size
//   BM_InclusionProof/1000000   proof latency at 10^6 entries (p50/p99)
//   BM_Open/1000000             LogStore::Open at 10^6 entries
//   BM_SignCheckpoint           signing one checkpoint (p50/p99), witness included
//   BM_GetEntry/1000000         one verified entry read at 10^6 entries (the
//                               entry checked against the trusted root)
//   BM_GetEntries/1000000/P     one verified page of P entries (p50/p99)
//   *Smoke*                     the same with tiny sizes, for ./test.sh
//
// Scratch data goes under $PARLEY_BENCH_DIR (default /tmp); the 10^6-entry
// log is built once per process with AppendMany (one synced batch per 10^4
// entries).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "benchmark/benchmark.h"
#include "crypto/ed25519.h"
#include "rocksdb/db.h"
#include "storage/log_store.h"

namespace parley {
namespace {

constexpr size_t kValueSize = 256;

std::string ScratchPath(const std::string& name) {
  const char* base = std::getenv("PARLEY_BENCH_DIR");
  std::string path = std::string(base != nullptr ? base : "/tmp") +
                     "/parley-log-bench-" + std::to_string(getpid()) + "-" +
                     name;
  std::filesystem::remove_all(path);
  return path;
}

const Ed25519PrivateKey& BenchKey() {
  static const Ed25519PrivateKey* key = [] {
    (void)InitCrypto();
    return new Ed25519PrivateKey(
        *Ed25519PrivateKey::FromSeed(std::string(32, 'b')));
  }();
  return *key;
}

LogOptions BenchOptions(const std::string& path) {
  LogOptions o;
  o.path = path;
  o.origin = "bench.parley/log";
  o.signer = &BenchKey();
  return o;
}

// --- Appends vs raw synced puts -------------------------------------------

std::unique_ptr<LogStore> g_append_store;
std::string g_append_path;

void BM_LogAppend(benchmark::State& state) {
  if (state.thread_index() == 0) {
    g_append_path = ScratchPath("append");
    g_append_store = *LogStore::Open(BenchOptions(g_append_path));
  }
  std::string value(kValueSize, 'v');
  for (auto _ : state) {
    absl::StatusOr<uint64_t> index = g_append_store->Append(value);
    if (!index.ok()) state.SkipWithError("append failed");
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    g_append_store.reset();
    std::filesystem::remove_all(g_append_path);
  }
}

rocksdb::DB* g_raw_db = nullptr;
std::string g_raw_path;
std::atomic<uint64_t> g_raw_key{0};

void BM_RawSyncedPut(benchmark::State& state) {
  if (state.thread_index() == 0) {
    g_raw_path = ScratchPath("raw");
    rocksdb::Options options;
    options.create_if_missing = true;
    rocksdb::Status s = rocksdb::DB::Open(options, g_raw_path, &g_raw_db);
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
  }
  std::string value(kValueSize, 'v');
  rocksdb::WriteOptions wo;
  wo.sync = true;
  for (auto _ : state) {
    uint64_t k = g_raw_key.fetch_add(1);
    char key[8];
    for (int i = 0; i < 8; ++i) key[i] = static_cast<char>(k >> (56 - 8 * i));
    rocksdb::Status s = g_raw_db->Put(wo, rocksdb::Slice(key, 8), value);
    if (!s.ok()) state.SkipWithError("put failed");
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    delete g_raw_db;
    g_raw_db = nullptr;
    std::filesystem::remove_all(g_raw_path);
  }
}

// --- Large-log benchmarks --------------------------------------------------

struct BuiltLog {
  std::string path;
  std::unique_ptr<LogStore> store;  // Null while BM_Open has it closed.
};

std::map<uint64_t, BuiltLog>& BuiltLogs() {
  static std::map<uint64_t, BuiltLog>* logs = new std::map<uint64_t, BuiltLog>;
  return *logs;
}

// Builds (once per size) a log of `n` entries of kValueSize bytes.
BuiltLog& LogOfSize(uint64_t n) {
  static std::mutex mu;
  std::map<uint64_t, BuiltLog>* logs = &BuiltLogs();
  std::lock_guard<std::mutex> lock(mu);
  BuiltLog& log = (*logs)[n];
  if (log.path.empty()) {
    log.path = ScratchPath("built-" + std::to_string(n));
    log.store = *LogStore::Open(BenchOptions(log.path));
    std::vector<std::string> chunk;
    for (uint64_t i = 0; i < n; ++i) {
      std::string value(kValueSize, 'e');
      std::memcpy(value.data(), &i, sizeof(i));
      chunk.push_back(std::move(value));
      if (chunk.size() == 10000 || i + 1 == n) {
        if (!log.store->AppendMany(chunk).ok()) std::abort();
        chunk.clear();
      }
    }
    if (!log.store->SignCheckpointNow().ok()) std::abort();
  }
  if (log.store == nullptr) log.store = *LogStore::Open(BenchOptions(log.path));
  return log;
}

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  size_t k = std::min(v.size() - 1, static_cast<size_t>(p * v.size()));
  std::nth_element(v.begin(), v.begin() + k, v.end());
  return v[k];
}

void BM_InclusionProof(benchmark::State& state) {
  const uint64_t n = state.range(0);
  BuiltLog& log = LogOfSize(n);
  std::mt19937_64 rng(7);
  std::vector<double> micros;
  for (auto _ : state) {
    uint64_t index = rng() % n;
    auto start = std::chrono::steady_clock::now();
    absl::StatusOr<std::vector<std::string>> proof =
        log.store->InclusionProof(index, n);
    auto end = std::chrono::steady_clock::now();
    if (!proof.ok()) state.SkipWithError("proof failed");
    benchmark::DoNotOptimize(proof);
    micros.push_back(
        std::chrono::duration<double, std::micro>(end - start).count());
  }
  state.counters["p50_us"] = Percentile(micros, 0.50);
  state.counters["p99_us"] = Percentile(micros, 0.99);
}

void BM_Open(benchmark::State& state) {
  const uint64_t n = state.range(0);
  BuiltLog& log = LogOfSize(n);
  log.store.reset();  // Clean close (flushes).
  for (auto _ : state) {
    auto start = std::chrono::steady_clock::now();
    absl::StatusOr<std::unique_ptr<LogStore>> store =
        LogStore::Open(BenchOptions(log.path));
    auto end = std::chrono::steady_clock::now();
    if (!store.ok() || (*store)->Size() != n) state.SkipWithError("open failed");
    state.SetIterationTime(std::chrono::duration<double>(end - start).count());
    store->reset();  // Close outside the timed region.
  }
}

// Verified reads: each entry served is checked against the in-memory root
// (GetEntry: its inclusion path; GetEntries: the page as a whole, its leaves
// and the O(log n) subtrees around it).
void BM_GetEntry(benchmark::State& state) {
  const uint64_t n = state.range(0);
  BuiltLog& log = LogOfSize(n);
  std::mt19937_64 rng(11);
  std::vector<double> micros;
  for (auto _ : state) {
    uint64_t index = rng() % n;
    auto start = std::chrono::steady_clock::now();
    absl::StatusOr<std::string> entry = log.store->GetEntry(index);
    auto end = std::chrono::steady_clock::now();
    if (!entry.ok()) state.SkipWithError("read failed");
    benchmark::DoNotOptimize(entry);
    micros.push_back(
        std::chrono::duration<double, std::micro>(end - start).count());
  }
  state.counters["p50_us"] = Percentile(micros, 0.50);
  state.counters["p99_us"] = Percentile(micros, 0.99);
}

void BM_GetEntries(benchmark::State& state) {
  const uint64_t n = state.range(0);
  const uint64_t page = state.range(1);
  BuiltLog& log = LogOfSize(n);
  std::mt19937_64 rng(13);
  std::vector<double> micros;
  for (auto _ : state) {
    uint64_t first = rng() % (n - page);
    auto start = std::chrono::steady_clock::now();
    absl::StatusOr<std::vector<std::string>> entries =
        log.store->GetEntries(first, first + page, 64 << 20);
    auto end = std::chrono::steady_clock::now();
    if (!entries.ok() || entries->size() != page) {
      state.SkipWithError("read failed");
    }
    benchmark::DoNotOptimize(entries);
    micros.push_back(
        std::chrono::duration<double, std::micro>(end - start).count());
  }
  state.SetItemsProcessed(state.iterations() * page);
  state.counters["p50_us"] = Percentile(micros, 0.50);
  state.counters["p99_us"] = Percentile(micros, 0.99);
}

// Signing a checkpoint: the consistency proof from the previous one, the
// Ed25519 signature, the synced RocksDB put and the synced witness file
// (PARLEY-LATEST-CHECKPOINT). One entry is appended, untimed, before each.
void BM_SignCheckpoint(benchmark::State& state) {
  const std::string path = ScratchPath("sign");
  LogOptions options = BenchOptions(path);
  options.background_checkpoints = false;
  absl::StatusOr<std::unique_ptr<LogStore>> store = LogStore::Open(options);
  if (!store.ok()) {
    state.SkipWithError(std::string(store.status().message()).c_str());
    return;
  }
  std::string value(kValueSize, 's');
  std::vector<double> micros;
  for (auto _ : state) {
    if (!(*store)->Append(value).ok()) state.SkipWithError("append failed");
    auto start = std::chrono::steady_clock::now();
    absl::StatusOr<SignedCheckpoint> cp = (*store)->SignCheckpointNow();
    auto end = std::chrono::steady_clock::now();
    if (!cp.ok()) state.SkipWithError("signing failed");
    double us = std::chrono::duration<double, std::micro>(end - start).count();
    micros.push_back(us);
    state.SetIterationTime(us / 1e6);
  }
  state.counters["p50_us"] = Percentile(micros, 0.50);
  state.counters["p99_us"] = Percentile(micros, 0.99);
  store->reset();
  std::filesystem::remove_all(path);
}

void BM_LogAppendSmoke(benchmark::State& state) { BM_LogAppend(state); }
void BM_RawSyncedPutSmoke(benchmark::State& state) { BM_RawSyncedPut(state); }
void BM_InclusionProofSmoke(benchmark::State& state) {
  BM_InclusionProof(state);
}
void BM_OpenSmoke(benchmark::State& state) { BM_Open(state); }
void BM_SignCheckpointSmoke(benchmark::State& state) {
  BM_SignCheckpoint(state);
}
void BM_GetEntrySmoke(benchmark::State& state) { BM_GetEntry(state); }
void BM_GetEntriesSmoke(benchmark::State& state) { BM_GetEntries(state); }

// Appends and raw puts are compared as a ratio on a disk whose latency
// swings with the neighbours' load, so each runs as 5 repetitions and main()
// interleaves all repetitions in random order: a noisy minute hits both
// sides alike. parley-bench reports the ratio of the medians and each side's
// range.
BENCHMARK(BM_LogAppend)->Threads(1)->Threads(8)->Threads(64)->UseRealTime()
    ->MinTime(2)->Repetitions(5);
BENCHMARK(BM_RawSyncedPut)->Threads(1)->Threads(8)->Threads(64)->UseRealTime()
    ->MinTime(2)->Repetitions(5);
BENCHMARK(BM_InclusionProof)->Arg(1000000)->Iterations(20000)->UseRealTime();
BENCHMARK(BM_Open)->Arg(1000000)->Iterations(5)->UseManualTime();
BENCHMARK(BM_SignCheckpoint)->Iterations(500)->UseManualTime();
BENCHMARK(BM_GetEntry)->Arg(1000000)->Iterations(20000)->UseRealTime();
BENCHMARK(BM_GetEntries)->Args({1000000, 100})->Args({1000000, 1000})
    ->Iterations(2000)->UseRealTime();

BENCHMARK(BM_LogAppendSmoke)->Threads(1)->Threads(8)->Iterations(20)
    ->UseRealTime();
BENCHMARK(BM_RawSyncedPutSmoke)->Threads(1)->Threads(8)->Iterations(20)
    ->UseRealTime();
BENCHMARK(BM_InclusionProofSmoke)->Arg(1000)->Iterations(200)->UseRealTime();
BENCHMARK(BM_OpenSmoke)->Arg(1000)->Iterations(2)->UseManualTime();
BENCHMARK(BM_SignCheckpointSmoke)->Iterations(5)->UseManualTime();
BENCHMARK(BM_GetEntrySmoke)->Arg(1000)->Iterations(50)->UseRealTime();
BENCHMARK(BM_GetEntriesSmoke)->Args({1000, 100})->Iterations(20)
    ->UseRealTime();

}  // namespace

void RemoveBuiltLogs() {
  for (auto& [n, log] : BuiltLogs()) {
    log.store.reset();
    std::filesystem::remove_all(log.path);
  }
}

}  // namespace parley

int main(int argc, char** argv) {
  // Interleave repetitions unless the caller chose (see the registrations).
  constexpr std::string_view kInterleaveFlag =
      "--benchmark_enable_random_interleaving";
  std::vector<char*> args(argv, argv + argc);
  bool chosen = false;
  for (int i = 1; i < argc; ++i) {
    chosen = chosen || std::string_view(argv[i]).starts_with(kInterleaveFlag);
  }
  char interleave[] = "--benchmark_enable_random_interleaving=true";
  if (!chosen) args.insert(args.begin() + 1, interleave);
  argc = static_cast<int>(args.size());
  argv = args.data();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  parley::RemoveBuiltLogs();
  return 0;
}
