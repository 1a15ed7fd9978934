// parley-bench: the load generator. Starts parleyd (in a forked child, on a
// fresh temporary data directory) beside a raw gRPC echo server with the
// same TLS credentials, drives it with real devices — real keys, sealed
// envelopes, signatures, receipts — over TLS on loopback, and prints every
// figure beside its limit measured in the same run, as a ratio.
//
//   parley-bench [--smoke] [--json] [--gbench-json FILE]...
//
//   --smoke        tiny sizes, a few seconds (ctest bench_smoke.parley-bench)
//   --json         one JSON document instead of the table
//   --gbench-json  a Google Benchmark JSON file (crypto_bench, log_bench) to
//                  fold into the same table (./test.sh --bench does this)
//   --phases       a subset of send,batch,delivery,fanout,notify (profiling);
//                  the delivery phase needs send's channels, which the cast
//                  creates anyway
//
//   parley-bench --target HOST:PORT --ca FILE --invite-file FILE
//                [--admin-name NAME] [--target-pid PID] [other options]
//
//   --target       drive a running parleyd instead of starting one; the run
//                  enrolls an admin with the one-time admin invite in
//                  --invite-file (its name: --admin-name, default
//                  bench-admin), then members, channels and notifications
//                  whose names start with a per-run tag. They stay in that
//                  server's log for good: use a staging server. The raw echo
//                  still runs here, in a child process.
//   --target-pid   parleyd's pid when it runs on this machine, so that its
//                  CPU and memory are measured too
//
// Scratch data goes under $PARLEY_BENCH_DIR (default /tmp) and is removed.

#include <sys/resource.h>

#include <cinttypes>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <latch>
#include <set>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "bench_util.h"
#include "crypto/encoding.h"
#include "crypto/receipt.h"
#include "nlohmann/json.hpp"
#include "server/data_dir.h"
#include "storage/tlog/log_entry.h"

namespace parley::bench {
namespace {

// --- Options -------------------------------------------------------------------

struct Options {
  bool smoke = false;
  bool json = false;
  std::vector<std::string> gbench_json;
  size_t payload_bytes = 1024;
  // Concurrency -> total Sends (and echo calls) in that run.
  std::vector<std::pair<int, int>> send_runs = {{1, 1000}, {8, 4000},
                                                {64, 6400}};
  // Channels/SendBatch: sends per call, and (concurrency, total sends).
  int batch_size = 16;
  std::pair<int, int> batch_run = {8, 8000};
  int delivery_senders = 8;
  double delivery_rate = 1000;  // messages per second, all senders
  double delivery_seconds = 5;
  std::vector<int> fanouts = {100, 1000};
  int fanout_repeats = 5;
  int notifications = 10000;
  int acks_per_party = 2000;
  int workers = 8;  // concurrency of enrollment, import and acks
  // Phases to run (for profiling one at a time); all by default.
  std::set<std::string> phases = {"send", "batch", "delivery", "fanout",
                                   "notify"};

  // --target: drive a running parleyd instead of starting one.
  std::string target;       // HOST:PORT
  std::string ca_file;      // its CA certificate (PEM)
  std::string invite_file;  // a one-time admin invite
  std::string admin_name = "bench-admin";
  pid_t target_pid = -1;    // its pid, if it runs on this machine

  void MakeSmoke() {
    smoke = true;
    send_runs = {{1, 20}, {8, 40}};
    batch_size = 4;
    batch_run = {8, 64};
    delivery_rate = 100;
    delivery_seconds = 1;
    fanouts = {10, 30};
    fanout_repeats = 2;
    notifications = 40;
    acks_per_party = 10;
  }
};

// --- Figures -------------------------------------------------------------------

// One row of the report: a measurement, the limit it is compared with
// (measured in the same run), their ratio and the target, if any.
struct Figure {
  std::string key;    // stable JSON key
  std::string label;  // table label
  double value = 0;
  std::string unit;
  std::optional<double> limit;
  std::string limit_label;
  std::optional<double> ratio;
  std::string target;
  std::optional<bool> met;
};

class Report {
 public:
  Figure& Add(std::string key, std::string label, double value,
              std::string unit) {
    Figure& f = figures_.emplace_back();
    f.key = std::move(key);
    f.label = std::move(label);
    f.value = value;
    f.unit = std::move(unit);
    return f;
  }
  // Adds value/limit as the ratio (rates: higher is better).
  Figure& AddRate(std::string key, std::string label, double value,
                  std::string unit, double limit, std::string limit_label) {
    Figure& f = Add(std::move(key), std::move(label), value, std::move(unit));
    f.limit = limit;
    f.limit_label = std::move(limit_label);
    if (limit > 0) f.ratio = value / limit;
    return f;
  }
  void Note(std::string line) { notes_.push_back(std::move(line)); }
  const Figure* Find(std::string_view key) const {
    for (const Figure& f : figures_) {
      if (f.key == key) return &f;
    }
    return nullptr;
  }
  // Smoke sizes say nothing about targets.
  void ClearVerdicts() {
    for (Figure& f : figures_) f.met.reset();
  }
  void SetContext(std::string key, nlohmann::json value) {
    context_[key] = std::move(value);
  }

  void PrintTable(std::FILE* out) const {
    std::fprintf(out, "\nparley-bench  %s\n", context_.dump().c_str());
    std::fprintf(out, "%-46s %14s  %-30s %8s  %-24s %s\n", "figure", "value",
                 "limit (same run)", "ratio", "target", "met");
    for (const Figure& f : figures_) {
      std::string limit = f.limit.has_value()
                              ? Format(*f.limit, f.unit) + " " + f.limit_label
                              : f.limit_label;
      std::string ratio =
          f.ratio.has_value() ? absl::StrCat(Round(*f.ratio * 100), "%") : "";
      std::string met = !f.met.has_value() ? "" : (*f.met ? "yes" : "NO");
      std::fprintf(out, "%-46s %14s  %-30s %8s  %-24s %s\n", f.label.c_str(),
                   (Format(f.value, f.unit) + " " + f.unit).c_str(),
                   limit.c_str(), ratio.c_str(), f.target.c_str(),
                   met.c_str());
    }
    for (const std::string& n : notes_) std::fprintf(out, "note: %s\n", n.c_str());
  }

  nlohmann::json ToJson() const {
    nlohmann::json doc = context_;
    nlohmann::json figures = nlohmann::json::array();
    for (const Figure& f : figures_) {
      nlohmann::json j = {{"key", f.key}, {"label", f.label},
                          {"value", f.value}, {"unit", f.unit}};
      if (f.limit.has_value()) j["limit"] = *f.limit;
      if (!f.limit_label.empty()) j["limit_label"] = f.limit_label;
      if (f.ratio.has_value()) j["ratio"] = *f.ratio;
      if (!f.target.empty()) j["target"] = f.target;
      if (f.met.has_value()) j["met"] = *f.met;
      figures.push_back(j);
    }
    doc["figures"] = figures;
    doc["notes"] = notes_;
    return doc;
  }

 private:
  static std::string Round(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
  }
  static std::string Format(double v, const std::string& unit) {
    char buf[32];
    if (unit == "ms" || unit == "us") {
      std::snprintf(buf, sizeof buf, v < 10 ? "%.2f" : "%.1f", v);
    } else if (unit == "MiB" || unit == "s" || unit == "%") {
      std::snprintf(buf, sizeof buf, "%.1f", v);
    } else {
      std::snprintf(buf, sizeof buf, "%.0f", v);
    }
    return buf;
  }

  std::deque<Figure> figures_;  // A deque: references stay valid as rows are added.
  std::vector<std::string> notes_;
  nlohmann::json context_ = nlohmann::json::object();
};

void Progress(const std::string& line) {
  std::fprintf(stderr, "[parley-bench] %s\n", line.c_str());
}

// --- Closed-loop runs ------------------------------------------------------------

struct RunResult {
  double seconds = 0;
  std::vector<double> latencies_ms;
  absl::Status status;
  double rate() const {
    return seconds > 0 ? latencies_ms.size() / seconds : 0;
  }
  double p(double q) const { return Percentile(latencies_ms, q); }
};

// `threads` threads each make `per_thread` calls of call(thread, i), all
// released together; latency of each call and the wall time of the whole.
RunResult ClosedLoop(int threads, int per_thread,
                     const std::function<absl::Status(int, int)>& call) {
  std::latch start(threads + 1);
  std::vector<std::vector<double>> latencies(threads);
  std::vector<absl::Status> errors(threads);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      latencies[t].reserve(per_thread);
      start.arrive_and_wait();
      for (int i = 0; i < per_thread; ++i) {
        SteadyTime before = SteadyNow();
        absl::Status s = call(t, i);
        latencies[t].push_back(Millis(before, SteadyNow()));
        if (!s.ok()) {
          errors[t] = s;
          return;
        }
      }
    });
  }
  start.arrive_and_wait();
  SteadyTime begin = SteadyNow();
  for (std::thread& t : pool) t.join();
  RunResult r;
  r.seconds = Millis(begin, SteadyNow()) / 1000;
  for (int t = 0; t < threads; ++t) {
    r.latencies_ms.insert(r.latencies_ms.end(), latencies[t].begin(),
                          latencies[t].end());
    if (r.status.ok() && !errors[t].ok()) r.status = errors[t];
  }
  return r;
}

// `threads` closed-loop callers each echoing `request` `per_thread` times.
RunResult EchoLoop(grpc::Channel* echo, const grpc::ByteBuffer& request,
                   int threads, int per_thread) {
  return ClosedLoop(threads, per_thread, [&](int, int) {
    grpc::ByteBuffer out;
    return ToAbsl(EchoCall(echo, request, &out), "echo");
  });
}

// CPU seconds used by parleyd and by this process (the clients) between
// construction and Stop().
class CpuMeter {
 public:
  struct Use {
    double server_s, client_s, wall_s;
  };
  explicit CpuMeter(pid_t server)
      : server_(server),
        server_start_(ProcessCpuSeconds(server)),
        client_start_(ProcessCpuSeconds(getpid())),
        wall_start_(SteadyNow()) {}
  Use Stop() const {
    return {ProcessCpuSeconds(server_) - server_start_,
            ProcessCpuSeconds(getpid()) - client_start_,
            Millis(wall_start_, SteadyNow()) / 1000};
  }

 private:
  const pid_t server_;
  const double server_start_, client_start_;
  const SteadyTime wall_start_;
};

// The parleyd under load, and what this process can see of it.
struct Target {
  // parleyd's process on this machine: its CPU and memory are measured.
  // -1 for a parleyd elsewhere (or not named with --target-pid).
  pid_t pid = -1;
  int64_t baseline_rss_kib = -1;  // the forked parleyd before Start
  pid_t echo_pid = -1;            // the process serving the echo
  std::string echo_address;       // the raw echo server, always local
  std::string echo_ca_pem;

  bool measurable() const { return pid > 0; }
  int64_t RssKiB() const { return ProcStatusKiB(pid, "VmRSS"); }
  int64_t PeakRssKiB() const { return ProcStatusKiB(pid, "VmHWM"); }
};

std::string Payload(size_t bytes) {
  return std::string(bytes, 'x');
}

// --- The benchmark ---------------------------------------------------------------

class ParleyBench {
 public:
  ParleyBench(const Options& options, Target target, BenchClient* client,
              Report* report)
      : options_(options),
        target_(std::move(target)),
        client_(client),
        report_(report) {}

  absl::Status Run() {
    if (absl::Status s = Cast(); !s.ok()) return s;
    if (target_.measurable()) {
      report_->Add("rss.after_start_mib", "parleyd RSS, started, small cast",
                   target_.RssKiB() / 1024.0, "MiB");
    }
    const std::vector<std::pair<std::string, absl::Status (ParleyBench::*)()>>
        phases = {{"send", &ParleyBench::SendVersusEcho},
                  {"batch", &ParleyBench::SendBatchVersusEcho},
                  {"delivery", &ParleyBench::DeliveryLatency},
                  {"fanout", &ParleyBench::FanOut},
                  {"notify", &ParleyBench::Notifications}};
    for (const auto& [name, phase] : phases) {
      if (!options_.phases.contains(name)) continue;
      if (absl::Status s = (this->*phase)(); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

 private:
  int MaxSenders() const {
    int n = std::max(options_.delivery_senders, options_.batch_run.first);
    for (auto [c, total] : options_.send_runs) n = std::max(n, c);
    return n;
  }
  static std::string SenderName(int i) { return absl::StrCat("s", 1000 + i); }
  static std::string SendChannel(int i) { return absl::StrCat("send-", i); }
  static std::string FanName(int i) { return absl::StrCat("f", 10000 + i); }
  // The coordinator's organisation, tagged like the names on a shared
  // server so that no other coordinator joins its notifications' audience.
  std::string Organisation() const { return client_->Name("ocha"); }

  // admin, mediator m, coordinator c of "ocha", parties pa pb pc, receiver
  // rx, and the senders, each with a 3-member channel {m, sender, rx}.
  absl::Status Cast() {
    Progress("enrolling the cast");
    struct Want {
      std::string name;
      v1::Role role;
      std::string organisation;
    };
    std::vector<Want> want = {{"m", v1::ROLE_MEDIATOR, ""},
                              {"c", v1::ROLE_COORDINATOR, Organisation()},
                              {"pa", v1::ROLE_PARTY, ""},
                              {"pb", v1::ROLE_PARTY, ""},
                              {"pc", v1::ROLE_PARTY, ""},
                              {"rx", v1::ROLE_PARTY, ""}};
    for (int i = 0; i < MaxSenders(); ++i) {
      want.push_back({SenderName(i), v1::ROLE_PARTY, ""});
    }
    absl::Status s = ParallelFor(
        static_cast<int>(want.size()), options_.workers, [&](int i) {
          return client_->AddMember(want[i].name, want[i].role,
                                    want[i].organisation)
              .status();
        });
    if (!s.ok()) return s;
    return ParallelFor(MaxSenders(), options_.workers, [&](int i) {
      return client_->CreateChannel(client_->device("m"), SendChannel(i),
                                    {SenderName(i), "rx"});
    });
  }

  // Seals `n` envelopes from sender i into its channel, as SendRequests.
  absl::StatusOr<std::vector<v1::SendRequest>> SealSends(int i, int n) {
    std::vector<EnvelopeRecipient> to =
        client_->Recipients({"m", SenderName(i), "rx"});
    Device& sender = client_->device(SenderName(i));
    std::vector<v1::SendRequest> out;
    for (int k = 0; k < n; ++k) {
      absl::StatusOr<Sealed> sealed =
          client_->SealNext(sender, client_->Name(SendChannel(i)),
                            Payload(options_.payload_bytes), to);
      if (!sealed.ok()) return sealed.status();
      v1::SendRequest r;
      r.set_channel(client_->Name(SendChannel(i)));
      r.set_envelope(sealed->bytes);
      out.push_back(std::move(r));
    }
    return out;
  }

  absl::Status Send(const Device& sender, const v1::SendRequest& request,
                    uint64_t* index = nullptr) {
    grpc::ClientContext context;
    BenchClient::Authorize(&context, sender);
    v1::SendResponse response;
    grpc::Status s = client_->channels().Send(&context, request, &response);
    if (index != nullptr) *index = response.log_index();
    return ToAbsl(s, "Send as " + sender.name);
  }

  // Send rate and latency against the raw echo at 1, 8 and 64 concurrent
  // callers, same payload bytes, same TLS, same sync-stub code path.
  absl::Status SendVersusEcho() {
    std::shared_ptr<grpc::Channel> echo = EchoChannel();
    for (auto [concurrency, total] : options_.send_runs) {
      const int per = std::max(1, total / concurrency);
      Progress(absl::StrCat("sealing ", per * concurrency, " envelopes for ",
                            concurrency, " senders"));
      std::vector<std::vector<v1::SendRequest>> requests(concurrency);
      for (int i = 0; i < concurrency; ++i) {
        absl::StatusOr<std::vector<v1::SendRequest>> r = SealSends(i, per);
        if (!r.ok()) return r.status();
        requests[i] = *std::move(r);
      }
      const std::string wire = requests[0][0].SerializeAsString();
      const grpc::ByteBuffer echo_request = ToByteBuffer(wire);
      Progress(absl::StrCat("echo x", concurrency, " (", wire.size(),
                            "-byte requests)"));
      // Warm-up: connection and TLS handshake, allocator, thread pools.
      EchoLoop(echo.get(), echo_request, concurrency, 10);
      CpuMeter echo_cpu(target_.echo_pid);
      RunResult e = EchoLoop(echo.get(), echo_request, concurrency, per);
      if (!e.status.ok()) return e.status;
      const CpuMeter::Use echo_use = echo_cpu.Stop();
      Progress(absl::StrCat("Send x", concurrency));
      CpuMeter send_cpu(target_.pid);
      RunResult s = ClosedLoop(concurrency, per, [&](int t, int i) {
        return Send(client_->device(SenderName(t)), requests[t][i]);
      });
      if (!s.status.ok()) return s.status;
      const CpuMeter::Use send_use = send_cpu.Stop();
      if (concurrency == options_.workers) echo_rate_at_workers_ = e.rate();
      const std::string c = std::to_string(concurrency);
      const std::string who =
          absl::StrCat(c, concurrency == 1 ? " sender" : " senders");
      Figure& rate = report_->AddRate(
          "send.rate." + c, absl::StrCat("Send rate, ", who),
          s.rate(), "msg/s", e.rate(), "echo");
      if (concurrency == 8) {
        rate.target = ">= 50% of echo";
        rate.met = s.rate() >= 0.5 * e.rate();
      }
      report_->AddRate("send.p50." + c, absl::StrCat("Send p50, ", who),
                       s.p(0.5), "ms", e.p(0.5), "echo p50")
          .ratio = s.p(0.5) > 0 ? e.p(0.5) / s.p(0.5) : 0;
      report_->AddRate("send.p99." + c, absl::StrCat("Send p99, ", who),
                       s.p(0.99), "ms", e.p(0.99), "echo p99")
          .ratio = s.p(0.99) > 0 ? e.p(0.99) / s.p(0.99) : 0;
      if (!target_.measurable()) continue;
      report_
          ->AddRate("send.server_cpu_us." + c,
                    absl::StrCat("parleyd CPU per Send, ", who),
                    send_use.server_s * 1e6 / s.latencies_ms.size(), "us",
                    echo_use.server_s * 1e6 / e.latencies_ms.size(),
                    "per echo")
          .ratio.reset();
      report_->Add("send.cpu_busy." + c,
                   absl::StrCat("both cores busy during Send, ", who),
                   100 * (send_use.server_s + send_use.client_s) /
                       (send_use.wall_s * std::thread::hardware_concurrency()),
                   "%");
    }
    report_->Note(absl::StrCat(
        "Send: envelopes of ", options_.payload_bytes,
        "-byte payloads sealed to 3 members before timing; latency ratios are "
        "echo/Send (share of the time that is gRPC+TLS)"));
    return absl::OkStatus();
  }

  // Channels/SendBatch at batch_run's concurrency, batch_size sends per
  // call, against the raw echo of the same request bytes and against the
  // unary echo of one Send. A batch is a different call from the issue's
  // Send figure (one envelope per call), so it gets rows of its own.
  absl::Status SendBatchVersusEcho() {
    const auto [concurrency, total] = options_.batch_run;
    const int size = options_.batch_size;
    const int calls = std::max(1, total / (concurrency * size));
    Progress(absl::StrCat("sealing ", calls * size * concurrency,
                          " envelopes for ", concurrency, " batch senders"));
    std::vector<std::vector<v1::SendBatchRequest>> requests(concurrency);
    for (int i = 0; i < concurrency; ++i) {
      absl::StatusOr<std::vector<v1::SendRequest>> r =
          SealSends(i, calls * size);
      if (!r.ok()) return r.status();
      for (int k = 0; k < calls; ++k) {
        v1::SendBatchRequest& batch = requests[i].emplace_back();
        for (int j = 0; j < size; ++j) {
          *batch.add_sends() = std::move((*r)[k * size + j]);
        }
      }
    }
    std::shared_ptr<grpc::Channel> echo = EchoChannel();
    const grpc::ByteBuffer batch_echo =
        ToByteBuffer(requests[0][0].SerializeAsString());
    const grpc::ByteBuffer single_echo =
        ToByteBuffer(requests[0][0].sends(0).SerializeAsString());
    Progress(absl::StrCat("echo x", concurrency, " of one Send and of a ",
                          size, "-send batch"));
    EchoLoop(echo.get(), batch_echo, concurrency, 10);  // Warm-up.
    RunResult single =
        EchoLoop(echo.get(), single_echo, concurrency, calls * size);
    if (!single.status.ok()) return single.status;
    CpuMeter echo_cpu(target_.echo_pid);
    RunResult e = EchoLoop(echo.get(), batch_echo, concurrency, calls);
    if (!e.status.ok()) return e.status;
    const CpuMeter::Use echo_use = echo_cpu.Stop();
    Progress(absl::StrCat("SendBatch x", concurrency));
    CpuMeter send_cpu(target_.pid);
    RunResult s = ClosedLoop(concurrency, calls, [&](int t, int k) {
      grpc::ClientContext context;
      BenchClient::Authorize(&context, client_->device(SenderName(t)));
      v1::SendBatchResponse response;
      return ToAbsl(
          client_->channels().SendBatch(&context, requests[t][k], &response),
          "SendBatch as " + SenderName(t));
    });
    if (!s.status.ok()) return s.status;
    const CpuMeter::Use send_use = send_cpu.Stop();
    const std::string who =
        absl::StrCat(size, " per call, ", concurrency, " senders");
    report_->AddRate("batch.rate",
                     absl::StrCat("SendBatch rate, ", who),
                     s.rate() * size, "msg/s", e.rate() * size,
                     "echo of the batch");
    report_->AddRate("batch.vs_unary_echo",
                     absl::StrCat("SendBatch rate vs unary echo, ", who),
                     s.rate() * size, "msg/s", single.rate(), "unary echo");
    report_->AddRate("batch.p99", absl::StrCat("SendBatch p99, ", who),
                     s.p(0.99), "ms", e.p(0.99), "echo p99")
        .ratio = s.p(0.99) > 0 ? e.p(0.99) / s.p(0.99) : 0;
    if (target_.measurable()) {
      const double envelopes = static_cast<double>(s.latencies_ms.size()) * size;
      report_
          ->AddRate("batch.server_cpu_us",
                    absl::StrCat("parleyd CPU per batched envelope, ", who),
                    send_use.server_s * 1e6 / envelopes, "us",
                    echo_use.server_s * 1e6 / envelopes,
                    "echo per envelope")
          .ratio.reset();
    }
    report_->Note(absl::StrCat(
        "SendBatch: the same envelopes as Send, ", size,
        " per call; not the issue's Send figure, which is one envelope per "
        "call"));
    return absl::OkStatus();
  }

  // A channel to the echo server, built exactly as the parleyd channels.
  std::shared_ptr<grpc::Channel> EchoChannel() {
    BenchClient echo_client(target_.echo_address, target_.echo_ca_pem, "");
    return echo_client.NewChannel(0);
  }

  // Open-loop sends at delivery_rate from delivery_senders senders into
  // their channels; rx subscribes, opens each envelope and returns batched
  // delivered receipts as a real device does. Latency: start of the Send
  // call to the arrival of the Delivery at rx.
  absl::Status DeliveryLatency() {
    const int senders = options_.delivery_senders;
    const int per = std::max(
        1, static_cast<int>(options_.delivery_rate * options_.delivery_seconds /
                            senders));
    Progress(absl::StrCat("sealing ", per * senders,
                          " envelopes for the delivery run"));
    std::vector<std::vector<v1::SendRequest>> requests(senders);
    for (int i = 0; i < senders; ++i) {
      absl::StatusOr<std::vector<v1::SendRequest>> r = SealSends(i, per);
      if (!r.ok()) return r.status();
      requests[i] = *std::move(r);
    }
    absl::StatusOr<uint64_t> size = client_->TreeSize();
    if (!size.ok()) return size.status();

    Device& rx = client_->device("rx");
    absl::Mutex mu;
    std::map<uint64_t, SteadyTime> arrived;         // index -> arrival
    std::deque<std::pair<uint64_t, std::string>> inbox;  // for the opener
    bool stop = false;
    auto stream = std::make_unique<SubscriptionStream>(
        &client_->channels(), rx, *size - 1,
        [&](const v1::Delivery& d, SteadyTime at) {
          if (d.kind() != v1::Delivery::ENVELOPE) return;
          absl::MutexLock lock(&mu);
          arrived.emplace(d.index(), at);
          inbox.emplace_back(d.index(), d.entry());
        });
    // The device: open (verify + decrypt), sign a delivered receipt, submit
    // receipts in batches every 50 ms.
    std::atomic<int> open_failures{0};
    std::thread device([&] {
      v1::SubmitReceiptsRequest batch;
      SteadyTime last_submit = SteadyNow();
      while (true) {
        std::deque<std::pair<uint64_t, std::string>> work;
        bool stopping;
        {
          absl::MutexLock lock(&mu);
          auto ready = [&] { return stop || !inbox.empty(); };
          mu.AwaitWithTimeout(absl::Condition(&ready), absl::Milliseconds(50));
          work.swap(inbox);
          stopping = stop;
        }
        for (auto& [index, entry] : work) {
          absl::StatusOr<LogEntry> e = DecodeLogEntry(entry);
          const EnvelopeEntry* env =
              e.ok() ? std::get_if<EnvelopeEntry>(&e->body) : nullptr;
          absl::StatusOr<OpenedEnvelope> opened =
              env == nullptr
                  ? absl::StatusOr<OpenedEnvelope>(
                        absl::DataLossError("not an envelope"))
                  : OpenEnvelope(env->envelope, rx.key(),
                                 std::span<const PrekeyPair>(
                                     &*rx.signed_prekey, 1));
          if (!opened.ok()) {
            ++open_failures;
            continue;
          }
          absl::StatusOr<std::string> receipt = SignReceipt(
              rx.identity, opened->hash, ReceiptLevel::kDelivered, absl::Now());
          v1::ReceiptSubmission* sub = batch.add_receipts();
          sub->set_envelope_index(index);
          sub->set_receipt(*receipt);
        }
        if (batch.receipts_size() > 0 &&
            (stopping || Millis(last_submit, SteadyNow()) >= 50)) {
          grpc::ClientContext context;
          BenchClient::Authorize(&context, rx);
          v1::SubmitReceiptsResponse response;
          grpc::Status s =
              client_->channels().SubmitReceipts(&context, batch, &response);
          if (!s.ok()) Progress("SubmitReceipts: " + Describe(s));
          batch.Clear();
          last_submit = SteadyNow();
        }
        if (stopping) return;
      }
    });

    Progress(absl::StrCat("delivery run: ", options_.delivery_rate,
                          " msg/s for ", options_.delivery_seconds, " s"));
    const auto interval = std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::duration<double>(senders / options_.delivery_rate));
    std::vector<std::vector<std::pair<uint64_t, SteadyTime>>> sent(senders);
    std::vector<std::vector<double>> send_ms(senders);
    std::vector<absl::Status> errors(senders);
    std::vector<std::thread> pool;
    const SteadyTime t0 = SteadyNow() + std::chrono::milliseconds(20);
    for (int i = 0; i < senders; ++i) {
      pool.emplace_back([&, i] {
        const Device& d = client_->device(SenderName(i));
        for (int k = 0; k < per; ++k) {
          std::this_thread::sleep_until(t0 + k * interval +
                                        i * interval / senders);
          SteadyTime start = SteadyNow();
          uint64_t index = 0;
          absl::Status s = Send(d, requests[i][k], &index);
          send_ms[i].push_back(Millis(start, SteadyNow()));
          if (!s.ok()) {
            errors[i] = s;
            return;
          }
          sent[i].emplace_back(index, start);
        }
      });
    }
    for (std::thread& t : pool) t.join();
    const double seconds = Millis(t0, SteadyNow()) / 1000;
    size_t expected = 0;
    for (auto& v : sent) expected += v.size();
    {
      absl::MutexLock lock(&mu);
      auto all = [&] { return arrived.size() >= expected; };
      mu.AwaitWithTimeout(absl::Condition(&all), absl::Seconds(10));
      stop = true;
    }
    device.join();
    stream.reset();
    for (const absl::Status& s : errors) {
      if (!s.ok()) return s;
    }
    std::vector<double> latency, sends;
    size_t missing = 0;
    for (int i = 0; i < senders; ++i) {
      sends.insert(sends.end(), send_ms[i].begin(), send_ms[i].end());
      for (auto [index, start] : sent[i]) {
        auto it = arrived.find(index);
        if (it == arrived.end()) {
          ++missing;
          continue;
        }
        latency.push_back(Millis(start, it->second));
      }
    }
    const double achieved = expected / seconds;
    report_->Add("delivery.rate", "delivery run: achieved send rate", achieved,
                 "msg/s")
        .target = absl::StrCat("~", options_.delivery_rate);
    report_->AddRate("delivery.p50", "end-to-end delivery p50",
                     Percentile(latency, 0.5), "ms", Percentile(sends, 0.5),
                     "Send p50")
        .ratio.reset();
    Figure& p99 = report_->AddRate("delivery.p99", "end-to-end delivery p99",
                                   Percentile(latency, 0.99), "ms",
                                   Percentile(sends, 0.99), "Send p99");
    p99.ratio.reset();
    p99.target = "<= 20 ms";
    p99.met = Percentile(latency, 0.99) <= 20 && missing == 0;
    if (missing > 0 || open_failures > 0) {
      report_->Note(absl::StrCat("delivery: ", missing, " of ", expected,
                                 " envelopes not delivered within 10 s, ",
                                 open_failures.load(), " failed to open"));
    }
    report_->Note(
        "delivery: Send start -> Delivery arrival at the subscriber, which "
        "opens every envelope and submits signed delivered receipts in 50 ms "
        "batches; the limit column is the Send latency in the same run (a "
        "delivery cannot precede the durable append)");
    return absl::OkStatus();
  }

  // Fan-out of one message to N subscribers, each on its own TLS
  // connection. An envelope holds at most kMaxRecipients (256) recipients,
  // so N > 250 is ceil(N/250) channels of <= 250 members (+ the mediator),
  // sent concurrently; the time is from the first Send to the last arrival.
  absl::Status FanOut() {
    const int most = *std::max_element(options_.fanouts.begin(),
                                       options_.fanouts.end());
    Progress(absl::StrCat("enrolling ", most, " subscribers"));
    SteadyTime begin = SteadyNow();
    absl::Status s = ParallelFor(most, options_.workers, [&](int i) {
      return client_->AddMember(FanName(i), v1::ROLE_PARTY).status();
    });
    if (!s.ok()) return s;
    const double enroll_seconds = Millis(begin, SteadyNow()) / 1000;
    report_->Add("enroll.rate",
                 absl::StrCat("enrollment (invite+enroll+sign-in) x", options_.workers),
                 most / enroll_seconds, "/s");
    // Before the subscriptions open; reported with them (MemoryFigures).
    const double idle_mib =
        target_.measurable() ? target_.RssKiB() / 1024.0 : 0;

    constexpr int kGroup = 250;
    struct Group {
      std::string channel;
      std::vector<Sealed> envelopes;  // warm-up + repeats
    };
    std::map<int, std::vector<Group>> groups;
    Device& m = client_->device("m");
    for (int n : options_.fanouts) {
      for (int g = 0; g * kGroup < n; ++g) {
        Group group;
        group.channel = absl::StrCat("fan", n, "-", g);
        std::vector<std::string> members, recipients = {"m"};
        for (int i = g * kGroup; i < std::min(n, (g + 1) * kGroup); ++i) {
          members.push_back(FanName(i));
          recipients.push_back(FanName(i));
        }
        if (absl::Status s = client_->CreateChannel(m, group.channel, members);
            !s.ok()) {
          return s;
        }
        std::vector<EnvelopeRecipient> to = client_->Recipients(recipients);
        for (int r = 0; r <= options_.fanout_repeats; ++r) {
          absl::StatusOr<Sealed> sealed =
              client_->SealNext(m, client_->Name(group.channel),
                                Payload(options_.payload_bytes), to);
          if (!sealed.ok()) return sealed.status();
          group.envelopes.push_back(*std::move(sealed));
        }
        groups[n].push_back(std::move(group));
      }
    }

    absl::StatusOr<uint64_t> size = client_->TreeSize();
    if (!size.ok()) return size.status();
    Progress(absl::StrCat("opening ", most, " subscriptions"));
    absl::Mutex mu;
    std::vector<SteadyTime> arrivals;
    std::vector<std::shared_ptr<grpc::Channel>> connections;
    std::vector<std::unique_ptr<v1::Channels::Stub>> stubs;
    std::vector<std::unique_ptr<SubscriptionStream>> streams;
    for (int i = 0; i < most; ++i) {
      connections.push_back(client_->NewChannel(i + 1));
      stubs.push_back(v1::Channels::NewStub(connections.back()));
      streams.push_back(std::make_unique<SubscriptionStream>(
          stubs.back().get(), client_->device(FanName(i)), *size - 1,
          [&](const v1::Delivery& d, SteadyTime at) {
            if (d.kind() != v1::Delivery::ENVELOPE) return;
            absl::MutexLock lock(&mu);
            arrivals.push_back(at);
          }));
    }

    // One round: every group's envelope r sent at once; wait for n arrivals.
    auto round = [&](int n, int r, double* last_ms, double* median_ms,
                     double* send_ms) -> absl::Status {
      {
        absl::MutexLock lock(&mu);
        arrivals.clear();
      }
      std::vector<Group>& gs = groups[n];
      std::vector<absl::Status> errors(gs.size());
      std::vector<std::thread> pool;
      const SteadyTime t0 = SteadyNow();
      std::atomic<int64_t> slowest_send_us{0};
      for (size_t g = 0; g < gs.size(); ++g) {
        pool.emplace_back([&, g] {
          v1::SendRequest req;
          req.set_channel(client_->Name(gs[g].channel));
          req.set_envelope(gs[g].envelopes[r].bytes);
          errors[g] = Send(m, req);
          int64_t us = static_cast<int64_t>(Millis(t0, SteadyNow()) * 1000);
          int64_t prev = slowest_send_us.load();
          while (us > prev && !slowest_send_us.compare_exchange_weak(prev, us)) {
          }
        });
      }
      for (std::thread& t : pool) t.join();
      for (const absl::Status& e : errors) {
        if (!e.ok()) return e;
      }
      absl::MutexLock lock(&mu);
      auto all = [&] { return arrivals.size() >= static_cast<size_t>(n); };
      if (!mu.AwaitWithTimeout(absl::Condition(&all), absl::Seconds(30))) {
        return absl::DeadlineExceededError(absl::StrCat(
            "fan-out to ", n, ": only ", arrivals.size(), " arrived in 30 s"));
      }
      std::vector<double> ms;
      for (SteadyTime t : arrivals) ms.push_back(Millis(t0, t));
      *last_ms = *std::max_element(ms.begin(), ms.end());
      *median_ms = Percentile(ms, 0.5);
      *send_ms = slowest_send_us.load() / 1000.0;
      return absl::OkStatus();
    };

    for (int n : options_.fanouts) {
      double last, median, send;
      // Warm-up round: also proves every stream is established.
      if (absl::Status s = round(n, 0, &last, &median, &send); !s.ok()) {
        return s;
      }
      Progress(absl::StrCat("fan-out to ", n, " (cold): last arrival ", last,
                            " ms"));
      std::vector<double> lasts, medians, sends;
      CpuMeter cpu(target_.pid);
      for (int r = 1; r <= options_.fanout_repeats; ++r) {
        if (absl::Status s = round(n, r, &last, &median, &send); !s.ok()) {
          return s;
        }
        lasts.push_back(last);
        medians.push_back(median);
        sends.push_back(send);
      }
      const CpuMeter::Use use = cpu.Stop();
      const std::string k = std::to_string(n);
      Figure& f = report_->AddRate(
          "fanout.last." + k, absl::StrCat("fan-out to ", n, ": last arrival"),
          Percentile(lasts, 0.5), "ms", Percentile(sends, 0.5),
          "Send (durable append)");
      f.ratio.reset();
      if (n == 1000) {
        f.target = "<= 200 ms";
        f.met = f.value <= 200;
      }
      report_->Add("fanout.median." + k,
                   absl::StrCat("fan-out to ", n, ": median arrival"),
                   Percentile(medians, 0.5), "ms");
      if (!target_.measurable()) continue;
      // parleyd and the subscribers share this machine's cores, so a
      // round's last arrival cannot come sooner than the CPU both spend on
      // it divided by the cores: the floor beside which the time is read.
      const double rounds = options_.fanout_repeats;
      const double server_ms = use.server_s * 1000 / rounds;
      const double client_ms = use.client_s * 1000 / rounds;
      report_->Add("fanout.server_cpu_ms." + k,
                   absl::StrCat("fan-out to ", n, ": parleyd CPU per round"),
                   server_ms, "ms");
      report_->Add("fanout.client_cpu_ms." + k,
                   absl::StrCat("fan-out to ", n, ": subscribers' CPU/round"),
                   client_ms, "ms");
      report_
          ->AddRate("fanout.cpu_floor." + k,
                    absl::StrCat("fan-out to ", n, ": CPU floor"),
                    (server_ms + client_ms) /
                        std::thread::hardware_concurrency(),
                    "ms", Percentile(lasts, 0.5), "last arrival")
          .ratio.reset();
    }
    report_->Note(absl::StrCat(
        "fan-out: median of ", options_.fanout_repeats,
        " rounds after a warm-up; one TLS connection per subscriber; "
        "an envelope holds at most 256 recipients, so 1000 subscribers are "
        "4 channels of 250 (+ the sending mediator), sent concurrently"));

    if (target_.measurable()) MemoryFigures(most, idle_mib);
    streams.clear();
    return absl::OkStatus();
  }

  // parleyd's resident memory with `most` subscriptions open, beside its
  // memory idle (`idle_mib`, before they opened) and before Start.
  void MemoryFigures(int most, double idle_mib) {
    const double subs_mib = target_.RssKiB() / 1024.0;
    const double base_mib = target_.baseline_rss_kib / 1024.0;
    Figure& idle = report_->AddRate(
        "rss.idle_mib", absl::StrCat("parleyd RSS idle (", most, "+ members)"),
        idle_mib, "MiB", base_mib, "process before Start");
    idle.ratio.reset();
    if (base_mib < 0) {
      idle.limit.reset();
      idle.limit_label.clear();
    }
    idle.target = "<= 150 MiB";
    idle.met = idle_mib <= 150;
    Figure& with = report_->AddRate(
        "rss.subscribed_mib",
        absl::StrCat("parleyd RSS, ", most, " open subscriptions"), subs_mib,
        "MiB", idle_mib, "idle");
    with.ratio.reset();
    with.target = "<= 150 MiB";
    with.met = subs_mib <= 150;
    report_->Add("rss.peak_mib", "parleyd peak RSS (VmHWM) so far",
                 target_.PeakRssKiB() / 1024.0, "MiB");
    report_->Add("rss.per_subscription_kib", "RSS per open subscription",
                 (subs_mib - idle_mib) * 1024 / most, "KiB");
  }

  // Bulk import of movement notifications to 3 parties (audience: the
  // parties, the mediator, the issuing coordinator) by `workers` concurrent
  // Notify calls, then acknowledgements by each party.
  absl::Status Notifications() {
    const int n = options_.notifications;
    Progress(absl::StrCat("sealing ", n, " movement notifications"));
    Device& issuer = client_->device("c");
    absl::StatusOr<std::vector<EnvelopeRecipient>> audience =
        client_->NotificationAudience(issuer, Organisation(),
                                      {"pa", "pb", "pc"});
    if (!audience.ok()) return audience.status();
    const std::vector<EnvelopeRecipient>& to = *audience;
    if (to.size() != 5) {
      report_->Note(absl::StrCat(
          "notifications: the target's audience is ", to.size(),
          " recipients (3 parties, the coordinator, every mediator on it), "
          "not 5"));
    }
    std::vector<v1::NotifyRequest> requests(n);
    std::vector<std::string> hashes(n);
    const int64_t depart = absl::ToUnixSeconds(absl::Now() + absl::Hours(72));
    for (int i = 0; i < n; ++i) {
      v1::NotifyRequest& r = requests[i];
      v1::NotificationMetadata* m = r.mutable_metadata();
      m->set_id(client_->Name(absl::StrCat("bulk-", i)));
      m->set_kind(v1::MOVEMENT);
      for (const char* p : {"pa", "pb", "pc"}) m->add_parties(client_->Name(p));
      m->set_depart_at(depart + i);
      m->set_ack_by(depart + i - 24 * 3600);
      m->set_valid_from(depart + i);
      m->set_valid_until(depart + i + 12 * 3600);
      absl::StatusOr<Sealed> sealed = client_->SealNext(
          issuer, "n/" + m->id(),
          absl::StrCat("{\"id\":\"", m->id(),
                       "\",\"route\":[[36.2,37.1],[36.3,37.2],[36.4,37.3]],"
                       "\"vehicles\":\"3 trucks\",\"personnel\":6}"),
          to, "application/vnd.parley.movement+json");
      if (!sealed.ok()) return sealed.status();
      r.set_envelope(sealed->bytes);
      hashes[i] = sealed->hash;
    }
    Progress(absl::StrCat("importing ", n, " notifications x",
                          options_.workers));
    const int w = options_.workers;
    RunResult imported = ClosedLoop(w, n / w, [&](int t, int i) {
      grpc::ClientContext context;
      BenchClient::Authorize(&context, issuer);
      v1::NotifyResponse response;
      return ToAbsl(client_->notifications().Notify(
                        &context, requests[t * (n / w) + i], &response),
                    "Notify");
    });
    if (!imported.status.ok()) return imported.status;
    report_->AddRate("notify.rate",
                     absl::StrCat("bulk import rate (", n, ", x", w, ")"),
                     imported.rate(), "notif/s", echo_rate_at_workers_,
                     absl::StrCat("echo x", w));
    report_->Add("notify.total_s", "bulk import total time", imported.seconds,
                 "s");
    report_->Add("notify.p99", "Notify p99 during import", imported.p(0.99),
                 "ms");

    const int a = std::min(options_.acks_per_party, n / w * w);
    std::vector<v1::AcknowledgeRequest> acks;
    std::vector<const Device*> ackers;
    for (const char* p : {"pa", "pb", "pc"}) {
      const Device& party = client_->device(p);
      for (int i = 0; i < a; ++i) {
        v1::AcknowledgeRequest r;
        r.set_id(requests[i].metadata().id());
        r.set_version(1);
        absl::StatusOr<std::string> receipt =
            SignReceipt(party.identity, hashes[i], ReceiptLevel::kAcknowledged,
                        absl::Now());
        if (!receipt.ok()) return receipt.status();
        r.set_receipt(*receipt);
        acks.push_back(std::move(r));
        ackers.push_back(&party);
      }
    }
    // Interleave parties so concurrent acks hit different notifications.
    Progress(absl::StrCat("acknowledging: ", acks.size(), " acks x", w));
    const int per = static_cast<int>(acks.size()) / w;
    RunResult acked = ClosedLoop(w, per, [&](int t, int i) {
      const size_t k = static_cast<size_t>(i) * w + t;
      grpc::ClientContext context;
      BenchClient::Authorize(&context, *ackers[k]);
      v1::AcknowledgeResponse response;
      return ToAbsl(
          client_->notifications().Acknowledge(&context, acks[k], &response),
          "Acknowledge");
    });
    if (!acked.status.ok()) return acked.status;
    report_->AddRate("ack.rate", absl::StrCat("acknowledgement rate (x", w, ")"),
                     acked.rate(), "ack/s", echo_rate_at_workers_,
                     absl::StrCat("echo x", w));
    report_->Add("ack.p99", "Acknowledge p99", acked.p(0.99), "ms");
    return absl::OkStatus();
  }

  const Options& options_;
  const Target target_;
  BenchClient* const client_;
  Report* const report_;
  double echo_rate_at_workers_ = 0;
};

// --- Google Benchmark results (crypto_bench, log_bench) --------------------------

class GbenchResults {
 public:
  absl::Status Load(const std::string& path) {
    std::ifstream in(path);
    if (!in) return absl::NotFoundError("cannot read " + path);
    nlohmann::json doc = nlohmann::json::parse(in, nullptr, false);
    if (doc.is_discarded() || !doc.contains("benchmarks")) {
      return absl::InvalidArgumentError(path + " is not Google Benchmark JSON");
    }
    for (const nlohmann::json& b : doc["benchmarks"]) {
      if (b.value("run_type", "iteration") != "iteration") continue;
      runs_.push_back(b);
    }
    return absl::OkStatus();
  }

  // Every run (each repetition) whose name starts with `prefix` and
  // contains every part.
  std::vector<const nlohmann::json*> FindAll(
      const std::string& prefix,
      std::initializer_list<const char*> parts) const {
    std::vector<const nlohmann::json*> out;
    for (const nlohmann::json& b : runs_) {
      const std::string name = b.value("name", "");
      if (name.rfind(prefix, 0) != 0) continue;
      bool all = true;
      for (const char* p : parts) all = all && name.find(p) != std::string::npos;
      if (all) out.push_back(&b);
    }
    return out;
  }

  // The first run whose name starts with `prefix` and contains every part.
  const nlohmann::json* Find(const std::string& prefix,
                             std::initializer_list<const char*> parts) const {
    for (const nlohmann::json& b : runs_) {
      const std::string name = b.value("name", "");
      if (name.rfind(prefix, 0) != 0) continue;
      bool all = true;
      for (const char* p : parts) all = all && name.find(p) != std::string::npos;
      if (all) return &b;
    }
    return nullptr;
  }
  // CPU time per iteration in microseconds, or 0. Single-threaded crypto
  // is compared by CPU time: on a shared 2-core machine its wall time
  // measures the neighbours.
  double Micros(const std::string& prefix,
                std::initializer_list<const char*> parts) const {
    const nlohmann::json* b = Find(prefix, parts);
    if (b == nullptr) return 0;
    double t = b->value("cpu_time", 0.0);
    std::string unit = b->value("time_unit", "ns");
    if (unit == "ns") return t / 1000;
    if (unit == "ms") return t * 1000;
    if (unit == "s") return t * 1e6;
    return t;
  }

 private:
  std::vector<nlohmann::json> runs_;
};

void AddGbenchFigures(const GbenchResults& g, Report* report) {
  // Envelopes beside the sum of the raw primitives they are built from:
  // seal = sign(P) + encrypt(P) + (R + 1) X25519 (ephemeral + one per
  // recipient); open = verify(P) + X25519 + decrypt(P); server check =
  // verify(P). Key derivation, wrapping and framing are the overhead.
  const double x = g.Micros("BM_RawX25519", {});
  for (auto [r, bytes] : std::vector<std::pair<int, int>>{
           {1, 1024}, {3, 1024}, {10, 1024}, {3, 65536}}) {
    const std::string p = std::to_string(bytes);
    const std::string rs = absl::StrCat("recipients:", r, "/");
    const std::string bs = "bytes:" + p;
    const double seal = g.Micros("BM_EnvelopeSeal/", {rs.c_str(), bs.c_str()});
    const double open = g.Micros("BM_EnvelopeOpen/", {rs.c_str(), bs.c_str()});
    const double sign = g.Micros("BM_RawEd25519Sign/" + p, {});
    const double verify = g.Micros("BM_RawEd25519Verify/" + p, {});
    const double enc = g.Micros("BM_RawXChaCha20Poly1305Encrypt/" + p, {});
    const double dec = g.Micros("BM_RawXChaCha20Poly1305Decrypt/" + p, {});
    if (seal <= 0 || x <= 0) continue;
    const std::string k = absl::StrCat(r, "r_", bytes / 1024, "k");
    const std::string what = absl::StrCat(r, " rcpt, ", bytes / 1024, " KiB");
    report->AddRate("crypto.seal." + k, "seal/s, " + what, 1e6 / seal, "/s",
                    1e6 / (sign + enc + (r + 1) * x), "raw primitives");
    report->AddRate("crypto.open." + k, "open/s, " + what, 1e6 / open, "/s",
                    1e6 / (verify + x + dec), "raw primitives");
  }
  const double pv = g.Micros("BM_EnvelopeParseVerify/", {"recipients:3/", "bytes:1024"});
  const double verify1k = g.Micros("BM_RawEd25519Verify/1024", {});
  if (pv > 0) {
    report->AddRate("crypto.server_check.3r_1k",
                    "server parse+verify/s, 3 rcpt, 1 KiB", 1e6 / pv, "/s",
                    1e6 / verify1k, "raw verify 1 KiB");
  }
  const double rsign = g.Micros("BM_ReceiptSign", {});
  const double rverify = g.Micros("BM_ReceiptVerify", {});
  if (rsign > 0) {
    report->AddRate("crypto.receipt_sign", "receipt sign/s", 1e6 / rsign, "/s",
                    1e6 / g.Micros("BM_RawEd25519Sign/1024", {}),
                    "raw sign 1 KiB");
    report->AddRate("crypto.receipt_verify", "receipt verify/s", 1e6 / rverify,
                    "/s", 1e6 / verify1k, "raw verify 1 KiB");
  }

  for (int threads : {1, 8, 64}) {
    const std::string t = absl::StrCat("threads:", threads);
    // Repetitions (interleaved by log_bench in random order, so the i-th
    // of each side are not neighbours in time): medians, and each side's
    // range.
    auto rates = [&](const char* prefix) {
      std::vector<double> r;
      for (const nlohmann::json* b : g.FindAll(prefix, {t.c_str()})) {
        r.push_back(b->value("items_per_second", 0.0));
      }
      return r;
    };
    const std::vector<double> appends = rates("BM_LogAppend/");
    const std::vector<double> raws = rates("BM_RawSyncedPut/");
    if (appends.empty() || raws.empty()) continue;
    const double a = Percentile(appends, 0.5);
    const double p = Percentile(raws, 0.5);
    if (appends.size() > 1 || raws.size() > 1) {
      auto range = [](const std::vector<double>& v) {
        auto [lo, hi] = std::minmax_element(v.begin(), v.end());
        return absl::StrCat(static_cast<int64_t>(*lo), "-",
                            static_cast<int64_t>(*hi), "/s");
      };
      report->Note(absl::StrCat(
          "log append, ", threads, " appenders: medians of ", appends.size(),
          " and ", raws.size(),
          " randomly interleaved repetitions; appends ", range(appends),
          ", raw synced puts ", range(raws)));
    }
    // Every Send is one durable append, so at the same concurrency the
    // log's append rate bounds the Send rate (log_bench's entries are 256
    // bytes, a Send's about 2.7 KB: the bound is, if anything, generous).
    if (const Figure* send =
            report->Find(absl::StrCat("send.rate.", threads));
        send != nullptr) {
      report->AddRate(absl::StrCat("send.vs_append.", threads),
                      absl::StrCat("Send rate vs appends, ", threads,
                                   threads == 1 ? " sender" : " senders"),
                      send->value, "msg/s", a,
                      "log appends (log_bench)");
    }
    Figure& f = report->AddRate(
        absl::StrCat("log.append.", threads),
        absl::StrCat("log append rate, ", threads, " appenders"), a,
        "append/s", p, "raw synced puts");
    if (threads == 8) {
      f.target = ">= 80% of raw puts";
      f.met = a >= 0.8 * p;
    }
  }
  if (const nlohmann::json* proof = g.Find("BM_InclusionProof/1000000", {})) {
    report->Add("log.proof_p50_us", "inclusion proof p50 @ 10^6",
                proof->value("p50_us", 0.0), "us");
    Figure& f = report->Add("log.proof_p99_us", "inclusion proof p99 @ 10^6",
                            proof->value("p99_us", 0.0), "us");
    f.target = "<= 1000 us";
    f.met = f.value <= 1000;
  }
  const nlohmann::json* open_run = g.Find("BM_Open/1000000", {});
  // Manual (wall) time: opening is I/O as much as CPU.
  const double open =
      open_run == nullptr
          ? 0
          : open_run->value("real_time", 0.0) *
                (open_run->value("time_unit", "ns") == "ms"   ? 1e3
                 : open_run->value("time_unit", "ns") == "us" ? 1
                 : open_run->value("time_unit", "ns") == "s"  ? 1e6
                                                              : 1e-3);
  if (open > 0) {
    Figure& f = report->Add("log.open_ms", "log open @ 10^6", open / 1e3, "ms");
    f.target = "<= 1000 ms";
    f.met = f.value <= 1000;
  }
}

// --- main ----------------------------------------------------------------------

// Starts the echo server (and, without --target, parleyd) in a child
// process, enrolls the admin and runs the phases.
absl::Status Drive(const Options& options, const ServerConfig& config,
                   const std::string& local_origin, Report* report) {
  const bool own = options.target.empty();
  // Fork before this process touches gRPC.
  absl::StatusOr<std::unique_ptr<ServerProcess>> server =
      ServerProcess::Start(config, /*with_parleyd=*/own);
  if (!server.ok()) return server.status();
  absl::StatusOr<std::string> local_ca = ReadFile(config.data + "/tls/ca.crt");
  if (!local_ca.ok()) return local_ca.status();
  Target target;
  target.echo_pid = (*server)->pid();
  target.echo_address = absl::StrCat("localhost:", (*server)->echo_port());
  target.echo_ca_pem = *local_ca;

  // Where parleyd is, how to trust it and enroll its admin.
  std::string address, ca_pem, origin, tag, invite_path, admin_name;
  if (own) {
    target.pid = (*server)->pid();
    target.baseline_rss_kib = (*server)->baseline_rss_kib();
    Progress(absl::StrCat("parleyd pid ", target.pid, ", port ",
                          (*server)->parley_port(), "; echo port ",
                          (*server)->echo_port()));
    report->Add("rss.baseline_mib", "parleyd process RSS before Start",
                target.baseline_rss_kib / 1024.0, "MiB");
    address = absl::StrCat("localhost:", (*server)->parley_port());
    ca_pem = *local_ca;
    origin = local_origin;
    invite_path = config.data + "/bootstrap-invite";
    admin_name = "admin";
  } else {
    absl::StatusOr<std::string> ca = ReadFile(options.ca_file);
    if (!ca.ok()) return ca.status();
    target.pid = options.target_pid;
    absl::StatusOr<v1::ServerInfo> info =
        BenchClient(options.target, *ca, "").ServerInfo();
    if (!info.ok()) return info.status();
    // Names on a shared server carry a tag of this run, so that runs never
    // collide with each other or with real members.
    tag = absl::StrCat("b", HexEncode(SystemRandom().Bytes(3)), "-");
    Progress(absl::StrCat("target ", options.target, " (", info->origin(),
                          ", parleyd ", info->version(), ", ",
                          info->tree_size(),
                          " entries); this run's names start with ", tag,
                          " and stay in its log"));
    report->SetContext("target", options.target);
    report->SetContext("target_version", info->version());
    report->SetContext("name_tag", tag);
    address = options.target;
    ca_pem = *ca;
    origin = info->origin();
    invite_path = options.invite_file;
    admin_name = options.admin_name;
  }
  absl::StatusOr<std::string> invite = ReadFile(invite_path);
  if (!invite.ok()) return invite.status();
  BenchClient client(address, ca_pem, origin, tag);
  if (absl::Status s = client.EnrollAdmin(*invite, admin_name); !s.ok()) {
    return s;
  }
  return ParleyBench(options, std::move(target), &client, report).Run();
}

// What to change on a --target server when the run failed for a reason
// its configuration decides.
std::string TargetHint(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kResourceExhausted:
      return "hint: the target's [limits] refused the run; for a benchmark "
             "set requests_per_second = 100000, burst = 1000000, "
             "max_channel_members = 256, address_requests_per_second = "
             "100000, address_burst = 1000000 and "
             "enrollments_per_minute_per_address = 100000 "
             "(docs/PERFORMANCE.md)\n";
    case absl::StatusCode::kUnauthenticated:
      return "hint: a session expired mid-run; set [auth] session_minutes = "
             "240 on the target for a full run\n";
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kPermissionDenied:
      return "hint: --invite-file must hold an unused admin invite for "
             "--admin-name (parley admin invite --role admin --name NAME)\n";
    default:
      return "";
  }
}

int Main(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--smoke") {
      options.MakeSmoke();
    } else if (arg == "--json") {
      options.json = true;
    } else if (arg == "--gbench-json" && i + 1 < argc) {
      options.gbench_json.push_back(argv[++i]);
    } else if (arg == "--phases" && i + 1 < argc) {
      std::vector<std::string> names = absl::StrSplit(argv[++i], ',');
      const std::set<std::string> known = Options().phases;
      for (const std::string& name : names) {
        if (!known.contains(name)) {
          std::fprintf(stderr,
                       "parley-bench: unknown phase \"%s\" in --phases; the "
                       "phases are send,batch,delivery,fanout,notify\n",
                       name.c_str());
          return 2;
        }
      }
      options.phases = {names.begin(), names.end()};
    } else if (arg == "--target" && i + 1 < argc) {
      options.target = argv[++i];
    } else if (arg == "--ca" && i + 1 < argc) {
      options.ca_file = argv[++i];
    } else if (arg == "--invite-file" && i + 1 < argc) {
      options.invite_file = argv[++i];
    } else if (arg == "--admin-name" && i + 1 < argc) {
      options.admin_name = argv[++i];
    } else if (arg == "--target-pid" && i + 1 < argc &&
               absl::SimpleAtoi(argv[i + 1], &options.target_pid) &&
               options.target_pid > 0) {
      ++i;
    } else {
      std::fprintf(stderr,
                   "usage: parley-bench [--smoke] [--json] "
                   "[--gbench-json FILE]... "
                   "[--phases send,batch,delivery,fanout,notify]\n"
                   "       [--target HOST:PORT --ca FILE --invite-file FILE "
                   "[--admin-name NAME] [--target-pid PID]]\n"
                   "(unknown or incomplete argument: %s)\n",
                   arg.c_str());
      return 2;
    }
  }
  if (options.target.empty() &&
      (!options.ca_file.empty() || !options.invite_file.empty() ||
       options.target_pid > 0)) {
    std::fprintf(stderr,
                 "--ca, --invite-file and --target-pid go with --target\n");
    return 2;
  }
  if (!options.target.empty() &&
      (options.ca_file.empty() || options.invite_file.empty())) {
    std::fprintf(stderr,
                 "--target needs --ca (the server's CA certificate, PEM) and "
                 "--invite-file (a one-time admin invite: parley admin invite "
                 "--role admin --name %s)\n",
                 options.admin_name.c_str());
    return 2;
  }
  if (options.target_pid > 0 && kill(options.target_pid, 0) != 0) {
    std::fprintf(stderr, "--target-pid %d: no such process\n",
                 static_cast<int>(options.target_pid));
    return 2;
  }
  if (absl::Status s = InitCrypto(); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  // 1000 subscribers, one connection each, on both sides of loopback.
  rlimit files;
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }

  Report report;
  GbenchResults gbench;
  for (const std::string& path : options.gbench_json) {
    if (absl::Status s = gbench.Load(path); !s.ok()) {
      std::fprintf(stderr, "%s\n", s.ToString().c_str());
      return 1;
    }
  }
  const double load_before = LoadAverage();
  report.SetContext("date", absl::FormatTime("%Y-%m-%dT%H:%M:%SZ",
                                             absl::Now(), absl::UTCTimeZone()));
  report.SetContext("cores", std::thread::hardware_concurrency());
  report.SetContext("smoke", options.smoke);
  report.SetContext("load_before", load_before);

  const char* base = std::getenv("PARLEY_BENCH_DIR");
  std::string scratch = std::string(base != nullptr ? base : "/tmp") +
                        "/parley-bench-XXXXXX";
  if (mkdtemp(scratch.data()) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  struct Cleanup {
    std::string path;
    ~Cleanup() { std::filesystem::remove_all(path); }
  } cleanup{scratch};

  InitOptions init;
  init.origin = "bench.parley/log";
  init.now = absl::Now();
  absl::StatusOr<InitResult> initialised =
      InitDataDir(scratch + "/data", init);
  if (!initialised.ok()) {
    std::fprintf(stderr, "init: %s\n", initialised.status().ToString().c_str());
    return 1;
  }
  ServerConfig config;
  config.data = scratch + "/data";
  config.listen = "127.0.0.1:0";
  config.log_level = "warn";
  config.session_ttl = absl::Hours(4);
  config.limits.requests_per_second = 1e9;
  config.limits.burst = 1e9;
  // Every simulated device enrolls and signs in from 127.0.0.1.
  config.limits.address_requests_per_second = 1e9;
  config.limits.address_burst = 1e9;
  config.limits.public_requests_per_second = 1e9;
  config.limits.enrollments_per_minute_per_address = 1e9;
  config.limits.max_channel_members = 256;
  config.shutdown_grace = absl::Seconds(2);

  int exit_code = 0;
  if (absl::Status s = Drive(options, config, initialised->origin, &report);
      !s.ok()) {
    std::fprintf(stderr, "parley-bench failed: %s\n", s.ToString().c_str());
    if (!options.target.empty()) {
      std::fprintf(stderr, "%s", TargetHint(s).c_str());
    }
    exit_code = 1;
  }
  AddGbenchFigures(gbench, &report);
  if (options.smoke) report.ClearVerdicts();
  report.SetContext("load_after", LoadAverage());
  if (options.json) {
    std::cout << report.ToJson().dump(2) << "\n";
  } else {
    report.PrintTable(stdout);
  }
  return exit_code;
}

}  // namespace
}  // namespace parley::bench

int main(int argc, char** argv) { return parley::bench::Main(argc, argv); }
