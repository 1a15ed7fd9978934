// Envelope, receipt and keystore costs beside the raw libsodium primitives
// they are built from, measured in the same run. Full run:
//   ./crypto_bench
// Smoke run (tiny sizes, a few iterations; used by test.sh):
//   ./crypto_bench --benchmark_filter=Smoke

#include <sodium.h>

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "crypto/ed25519.h"
#include "crypto/envelope.h"
#include "crypto/keystore.h"
#include "crypto/prekey.h"
#include "crypto/receipt.h"
#include "crypto/x25519.h"

namespace parley {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'790'000'000);

struct Device {
  Ed25519PrivateKey identity;
  std::vector<PrekeyPair> prekeys;
};

// Recipients with a signed prekey each (no one-time prekeys: the common
// steady-state case).
struct Fixture {
  explicit Fixture(int recipients) {
    for (int i = 0; i < recipients; ++i) {
      Device d{Ed25519PrivateKey::Generate(), {}};
      d.prekeys.push_back(*GeneratePrekey(d.identity, PrekeyKind::kSigned, 1,
                                          kNow, kMaxPrekeyLifetime));
      specs.push_back({d.identity.public_key(), d.prekeys[0].prekey, {}});
      devices.push_back(std::move(d));
    }
    metadata.channel_id = "channel";
    metadata.client_message_id = std::string(16, 'm');
    metadata.previous_hash = std::string(32, '\0');
    metadata.created_at = absl::ToUnixSeconds(kNow);
    metadata.content_type = "application/octet-stream";
  }

  Ed25519PrivateKey sender = Ed25519PrivateKey::Generate();
  std::vector<Device> devices;
  std::vector<EnvelopeRecipient> specs;
  EnvelopeMetadata metadata;
};

// Args: {recipients, payload bytes}.
void BM_EnvelopeSeal(benchmark::State& state) {
  Fixture f(static_cast<int>(state.range(0)));
  const std::string payload(static_cast<size_t>(state.range(1)), 'p');
  for (auto _ : state) {
    auto envelope = SealEnvelope(f.sender, f.metadata, f.specs, payload);
    if (!envelope.ok()) state.SkipWithError("seal failed");
    benchmark::DoNotOptimize(envelope);
  }
  state.SetBytesProcessed(state.iterations() * state.range(1));
}

// Opening as the last recipient (the header scan is linear).
void BM_EnvelopeOpen(benchmark::State& state) {
  Fixture f(static_cast<int>(state.range(0)));
  const std::string payload(static_cast<size_t>(state.range(1)), 'p');
  const std::string envelope =
      *SealEnvelope(f.sender, f.metadata, f.specs, payload);
  const Device& me = f.devices.back();
  for (auto _ : state) {
    auto opened = OpenEnvelope(envelope, me.identity.public_key(), me.prekeys);
    if (!opened.ok()) state.SkipWithError("open failed");
    benchmark::DoNotOptimize(opened);
  }
  state.SetBytesProcessed(state.iterations() * state.range(1));
}

// What the server does per envelope: strict parse + signature check + hash.
void BM_EnvelopeParseVerify(benchmark::State& state) {
  Fixture f(static_cast<int>(state.range(0)));
  const std::string payload(static_cast<size_t>(state.range(1)), 'p');
  const std::string envelope =
      *SealEnvelope(f.sender, f.metadata, f.specs, payload);
  for (auto _ : state) {
    auto parsed = ParseEnvelope(envelope);
    if (!parsed.ok()) state.SkipWithError("parse failed");
    benchmark::DoNotOptimize(parsed);
  }
  state.SetBytesProcessed(state.iterations() * state.range(1));
}

void BM_ReceiptSign(benchmark::State& state) {
  Ed25519PrivateKey k = Ed25519PrivateKey::Generate();
  const std::string hash(32, 'h');
  for (auto _ : state) {
    auto r = SignReceipt(k, hash, ReceiptLevel::kAcknowledged, kNow);
    benchmark::DoNotOptimize(r);
  }
}

void BM_ReceiptVerify(benchmark::State& state) {
  Ed25519PrivateKey k = Ed25519PrivateKey::Generate();
  const std::string hash(32, 'h');
  const std::string receipt =
      *SignReceipt(k, hash, ReceiptLevel::kAcknowledged, kNow);
  for (auto _ : state) {
    auto r = VerifyReceipt(receipt, k.public_key(), hash);
    if (!r.ok()) state.SkipWithError("verify failed");
    benchmark::DoNotOptimize(r);
  }
}

void BM_KeystoreOpenInteractive(benchmark::State& state) {
  KeystoreContents c{Ed25519PrivateKey::Generate(), {}};
  const std::string file =
      *SealKeystore(c, "passphrase", KdfStrength::kInteractive);
  for (auto _ : state) {
    auto opened = OpenKeystore(file, "passphrase");
    if (!opened.ok()) state.SkipWithError("open failed");
    benchmark::DoNotOptimize(opened);
  }
}

// Raw libsodium primitives.

void BM_RawEd25519Sign(benchmark::State& state) {
  unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
  crypto_sign_keypair(pk, sk);
  const std::string msg(static_cast<size_t>(state.range(0)), 'm');
  unsigned char sig[crypto_sign_BYTES];
  for (auto _ : state) {
    crypto_sign_detached(sig, nullptr,
                         reinterpret_cast<const unsigned char*>(msg.data()),
                         msg.size(), sk);
    benchmark::DoNotOptimize(sig);
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}

void BM_RawEd25519Verify(benchmark::State& state) {
  unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
  crypto_sign_keypair(pk, sk);
  const std::string msg(static_cast<size_t>(state.range(0)), 'm');
  const auto* m = reinterpret_cast<const unsigned char*>(msg.data());
  unsigned char sig[crypto_sign_BYTES];
  crypto_sign_detached(sig, nullptr, m, msg.size(), sk);
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        crypto_sign_verify_detached(sig, m, msg.size(), pk));
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}

void BM_RawX25519(benchmark::State& state) {
  unsigned char a[32], b[32], pub[32], out[32];
  randombytes_buf(a, sizeof a);
  randombytes_buf(b, sizeof b);
  crypto_scalarmult_base(pub, b);
  for (auto _ : state) {
    benchmark::DoNotOptimize(crypto_scalarmult(out, a, pub));
  }
}

void BM_RawXChaCha20Poly1305Encrypt(benchmark::State& state) {
  unsigned char key[32], nonce[24];
  randombytes_buf(key, sizeof key);
  randombytes_buf(nonce, sizeof nonce);
  const std::string msg(static_cast<size_t>(state.range(0)), 'm');
  std::string out(msg.size() + 16, '\0');
  for (auto _ : state) {
    crypto_aead_xchacha20poly1305_ietf_encrypt(
        reinterpret_cast<unsigned char*>(out.data()), nullptr,
        reinterpret_cast<const unsigned char*>(msg.data()), msg.size(),
        nullptr, 0, nullptr, nonce, key);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}

void BM_RawXChaCha20Poly1305Decrypt(benchmark::State& state) {
  unsigned char key[32], nonce[24];
  randombytes_buf(key, sizeof key);
  randombytes_buf(nonce, sizeof nonce);
  const std::string msg(static_cast<size_t>(state.range(0)), 'm');
  std::string ct(msg.size() + 16, '\0');
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      reinterpret_cast<unsigned char*>(ct.data()), nullptr,
      reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), nullptr,
      0, nullptr, nonce, key);
  std::string out(msg.size(), '\0');
  for (auto _ : state) {
    benchmark::DoNotOptimize(crypto_aead_xchacha20poly1305_ietf_decrypt(
        reinterpret_cast<unsigned char*>(out.data()), nullptr, nullptr,
        reinterpret_cast<const unsigned char*>(ct.data()), ct.size(), nullptr,
        0, nonce, key));
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}

void EnvelopeArgs(benchmark::internal::Benchmark* b) {
  for (int recipients : {1, 3, 10}) {
    for (int size : {1024, 64 * 1024}) b->Args({recipients, size});
  }
  b->ArgNames({"recipients", "bytes"});
}

BENCHMARK(BM_EnvelopeSeal)->Apply(EnvelopeArgs);
BENCHMARK(BM_EnvelopeOpen)->Apply(EnvelopeArgs);
BENCHMARK(BM_EnvelopeParseVerify)->Apply(EnvelopeArgs);
BENCHMARK(BM_ReceiptSign);
BENCHMARK(BM_ReceiptVerify);
BENCHMARK(BM_KeystoreOpenInteractive)->Unit(benchmark::kMillisecond)
    ->Iterations(5);
BENCHMARK(BM_RawEd25519Sign)->Arg(1024)->Arg(64 * 1024);
BENCHMARK(BM_RawEd25519Verify)->Arg(1024)->Arg(64 * 1024);
BENCHMARK(BM_RawX25519);
BENCHMARK(BM_RawXChaCha20Poly1305Encrypt)->Arg(1024)->Arg(64 * 1024);
BENCHMARK(BM_RawXChaCha20Poly1305Decrypt)->Arg(1024)->Arg(64 * 1024);

// Smoke variants: tiny and fast, for --benchmark_filter=Smoke.
BENCHMARK(BM_EnvelopeSeal)->Name("Smoke/EnvelopeSeal")->Args({2, 64})
    ->Iterations(3);
BENCHMARK(BM_EnvelopeOpen)->Name("Smoke/EnvelopeOpen")->Args({2, 64})
    ->Iterations(3);
BENCHMARK(BM_ReceiptSign)->Name("Smoke/ReceiptSign")->Iterations(3);
BENCHMARK(BM_ReceiptVerify)->Name("Smoke/ReceiptVerify")->Iterations(3);
BENCHMARK(BM_RawX25519)->Name("Smoke/RawX25519")->Iterations(3);

}  // namespace
}  // namespace parley

int main(int argc, char** argv) {
  if (!parley::InitCrypto().ok()) return 1;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
