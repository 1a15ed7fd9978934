// Linked into the test binaries of the TSan build only (PARLEY_SANITIZE=
// thread). Tells ThreadSanitizer about absl::Mutex and absl::CondVar.
//
// Why: Debian's Abseil is compiled without TSan, so its Mutex takes and
// releases locks with atomics and futexes that TSan cannot see, and every
// access guarded by an absl::Mutex would be reported as a race. Abseil built
// with TSan annotates itself; ours cannot be rebuilt (Debian packages only).
//
// How: this file defines the public lock and wait functions of absl::Mutex
// and absl::CondVar in the test binary. The dynamic linker binds every call,
// from Parley, gRPC or Abseil itself, to these definitions first; each one
// tells TSan what it is about to do (the __tsan_mutex_* interface of
// <sanitizer/tsan_interface.h>) and calls Abseil's own function, found with
// dlsym(RTLD_NEXT). Waits that release and retake the lock inside Abseil
// (Await, LockWhen, CondVar::Wait) are told as an unlock before and a lock
// after. Nothing else changes: Abseil still does the locking.
//
// Abseil calls some of these functions from others (AwaitWithTimeout calls
// AwaitWithDeadline through the same exported symbol); only the outermost
// call on a thread is told to TSan, so a wait is one unlock and one lock.

#include <dlfcn.h>
#include <sanitizer/tsan_interface.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/base/options.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

#if !defined(__SANITIZE_THREAD__) && defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define __SANITIZE_THREAD__ 1
#endif
#endif
#ifndef __SANITIZE_THREAD__
#error "tsan_absl_sync.cc belongs in the TSan build only"
#endif

namespace {

#define PARLEY_STR2(x) #x
#define PARLEY_STR(x) PARLEY_STR2(x)

// The mangled name of absl::<inline namespace>::<rest>, e.g.
// Mangled("5Mutex4LockEv") for absl::Mutex::Lock().
std::string Mangled(const char* rest, bool is_const = false) {
  const std::string ns = PARLEY_STR(ABSL_OPTION_INLINE_NAMESPACE_NAME);
  return std::string(is_const ? "_ZNK4absl" : "_ZN4absl") +
         std::to_string(ns.size()) + ns + rest;
}

void* Real(const char* rest) {
  const std::string name = Mangled(rest);
  void* fn = dlsym(RTLD_NEXT, name.c_str());
  if (fn == nullptr) {
    std::fprintf(stderr, "tsan_absl_sync: %s not found in Abseil\n",
                 name.c_str());
    std::abort();
  }
  return fn;
}

template <typename Fn>
Fn RealFn(const char* rest) {
  return reinterpret_cast<Fn>(Real(rest));
}

using MutexFn = void (*)(absl::Mutex*);
using MutexTryFn = bool (*)(absl::Mutex*);
using MutexCondFn = void (*)(absl::Mutex*, const absl::Condition&);
using MutexCondDurationFn = bool (*)(absl::Mutex*, const absl::Condition&,
                                     absl::Duration);
using MutexCondTimeFn = bool (*)(absl::Mutex*, const absl::Condition&,
                                 absl::Time);
using CondVarWaitFn = void (*)(absl::CondVar*, absl::Mutex*);
using CondVarWaitDurationFn = bool (*)(absl::CondVar*, absl::Mutex*,
                                       absl::Duration);
using CondVarWaitTimeFn = bool (*)(absl::CondVar*, absl::Mutex*, absl::Time);

// How many of the functions below the current thread is inside.
thread_local int depth = 0;

// Tells TSan about a call only when it is the outermost one on the thread.
class Outer {
 public:
  Outer() : outer_(depth++ == 0) {}
  ~Outer() { --depth; }
  Outer(const Outer&) = delete;
  Outer& operator=(const Outer&) = delete;
  bool outer() const { return outer_; }

 private:
  const bool outer_;
};

constexpr unsigned kRead = __tsan_mutex_read_lock;

void BeforeLock(const Outer& o, void* mu, unsigned flags) {
  if (o.outer()) __tsan_mutex_pre_lock(mu, flags);
}
void AfterLock(const Outer& o, void* mu, unsigned flags) {
  if (o.outer()) __tsan_mutex_post_lock(mu, flags, 0);
}
void BeforeUnlock(const Outer& o, void* mu, unsigned flags) {
  if (o.outer()) __tsan_mutex_pre_unlock(mu, flags);
}
void AfterUnlock(const Outer& o, void* mu, unsigned flags) {
  if (o.outer()) __tsan_mutex_post_unlock(mu, flags);
}

// The caller holds mu (exclusively) around a call that releases and retakes
// it inside Abseil.
template <typename Call>
auto AroundWait(absl::Mutex* mu, Call call) {
  const Outer o;
  BeforeUnlock(o, mu, 0);
  AfterUnlock(o, mu, 0);
  BeforeLock(o, mu, 0);
  auto result = call();
  AfterLock(o, mu, 0);
  return result;
}

}  // namespace

namespace absl {
ABSL_NAMESPACE_BEGIN

void Mutex::Lock() {
  static const auto real = RealFn<MutexFn>("5Mutex4LockEv");
  const Outer o;
  BeforeLock(o, this, 0);
  real(this);
  AfterLock(o, this, 0);
}

void Mutex::Unlock() {
  static const auto real = RealFn<MutexFn>("5Mutex6UnlockEv");
  const Outer o;
  BeforeUnlock(o, this, 0);
  real(this);
  AfterUnlock(o, this, 0);
}

bool Mutex::TryLock() {
  static const auto real = RealFn<MutexTryFn>("5Mutex7TryLockEv");
  const Outer o;
  BeforeLock(o, this, __tsan_mutex_try_lock);
  const bool locked = real(this);
  if (o.outer()) {
    __tsan_mutex_post_lock(
        this,
        __tsan_mutex_try_lock | (locked ? 0 : __tsan_mutex_try_lock_failed), 0);
  }
  return locked;
}

void Mutex::ReaderLock() {
  static const auto real = RealFn<MutexFn>("5Mutex10ReaderLockEv");
  const Outer o;
  BeforeLock(o, this, kRead);
  real(this);
  AfterLock(o, this, kRead);
}

void Mutex::ReaderUnlock() {
  static const auto real = RealFn<MutexFn>("5Mutex12ReaderUnlockEv");
  const Outer o;
  BeforeUnlock(o, this, kRead);
  real(this);
  AfterUnlock(o, this, kRead);
}

bool Mutex::ReaderTryLock() {
  static const auto real = RealFn<MutexTryFn>("5Mutex13ReaderTryLockEv");
  const Outer o;
  BeforeLock(o, this, kRead | __tsan_mutex_try_lock);
  const bool locked = real(this);
  if (o.outer()) {
    __tsan_mutex_post_lock(this,
                           kRead | __tsan_mutex_try_lock |
                               (locked ? 0 : __tsan_mutex_try_lock_failed),
                           0);
  }
  return locked;
}

void Mutex::LockWhen(const Condition& cond) {
  static const auto real =
      RealFn<MutexCondFn>("5Mutex8LockWhenERKNS0_9ConditionE");
  const Outer o;
  BeforeLock(o, this, 0);
  real(this, cond);
  AfterLock(o, this, 0);
}

void Mutex::ReaderLockWhen(const Condition& cond) {
  static const auto real =
      RealFn<MutexCondFn>("5Mutex14ReaderLockWhenERKNS0_9ConditionE");
  const Outer o;
  BeforeLock(o, this, kRead);
  real(this, cond);
  AfterLock(o, this, kRead);
}

bool Mutex::LockWhenWithTimeout(const Condition& cond, Duration timeout) {
  static const auto real = RealFn<MutexCondDurationFn>(
      "5Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  const Outer o;
  BeforeLock(o, this, 0);
  const bool met = real(this, cond, timeout);
  AfterLock(o, this, 0);  // Held on return whether or not cond became true.
  return met;
}

bool Mutex::LockWhenWithDeadline(const Condition& cond, Time deadline) {
  static const auto real = RealFn<MutexCondTimeFn>(
      "5Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  const Outer o;
  BeforeLock(o, this, 0);
  const bool met = real(this, cond, deadline);
  AfterLock(o, this, 0);
  return met;
}

void Mutex::Await(const Condition& cond) {
  static const auto real =
      RealFn<MutexCondFn>("5Mutex5AwaitERKNS0_9ConditionE");
  AroundWait(this, [&] {
    real(this, cond);
    return 0;
  });
}

bool Mutex::AwaitWithTimeout(const Condition& cond, Duration timeout) {
  static const auto real = RealFn<MutexCondDurationFn>(
      "5Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  return AroundWait(this, [&] { return real(this, cond, timeout); });
}

bool Mutex::AwaitWithDeadline(const Condition& cond, Time deadline) {
  static const auto real = RealFn<MutexCondTimeFn>(
      "5Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  return AroundWait(this, [&] { return real(this, cond, deadline); });
}

void CondVar::Wait(Mutex* mu) {
  static const auto real = RealFn<CondVarWaitFn>("7CondVar4WaitEPNS0_5MutexE");
  AroundWait(mu, [&] {
    real(this, mu);
    return 0;
  });
}

bool CondVar::WaitWithTimeout(Mutex* mu, Duration timeout) {
  static const auto real = RealFn<CondVarWaitDurationFn>(
      "7CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE");
  return AroundWait(mu, [&] { return real(this, mu, timeout); });
}

bool CondVar::WaitWithDeadline(Mutex* mu, Time deadline) {
  static const auto real = RealFn<CondVarWaitTimeFn>(
      "7CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE");
  return AroundWait(mu, [&] { return real(this, mu, deadline); });
}

ABSL_NAMESPACE_END
}  // namespace absl
