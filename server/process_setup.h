#ifndef PARLEY_SERVER_PROCESS_SETUP_H_
#define PARLEY_SERVER_PROCESS_SETUP_H_

namespace parley {

// Process-wide settings for a process whose job is to run parleyd: its own
// main, and the benchmark's server child (which must measure what parleyd
// runs). Not for tests or libraries: it changes global state. Call once,
// before ParleyServer::Start and before other threads exist.
//
// - Turns off absl::Mutex deadlock detection. Debian builds Abseil without
//   NDEBUG, so every Lock/Unlock records the lock graph under one global
//   lock: CPU and contention across parleyd's ~40 threads, and memory for
//   the graph. Tests keep it.
// - Caps glibc's malloc arenas at one per core (glibc's default is eight
//   per core). Each of parleyd's ~40 threads otherwise gets an arena of its
//   own, and freed memory scattered over them stays resident.
// - Starts a detached thread that hands free heap pages back to the kernel
//   (malloc_trim) every few seconds. glibc keeps freed memory inside its
//   per-thread arenas (RocksDB flush buffers, TLS handshakes, bursts of
//   deliveries), where it stays resident: after the benchmark's send and
//   delivery phases ~60 MiB of parleyd's ~80 MiB heap was free but
//   resident. The two together took the idle server from ~71-81 MiB to
//   ~38 MiB there (either alone: ~70 MiB).
void ConfigureServerProcess();

}  // namespace parley

#endif  // PARLEY_SERVER_PROCESS_SETUP_H_
