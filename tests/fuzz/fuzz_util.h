// Shared by the fuzz targets in tests/fuzz/. Header only.
#ifndef PARLEY_TESTS_FUZZ_FUZZ_UTIL_H_
#define PARLEY_TESTS_FUZZ_FUZZ_UTIL_H_

#include <cstdio>
#include <cstdlib>

// Aborts when a property the target checks does not hold (libFuzzer and the
// replay driver both report an abort as a crash, with the input kept).
#define PARLEY_FUZZ_CHECK(cond)                                                \
  do {                                                                         \
    if (!(cond)) {                                                             \
      std::fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, \
                   #cond);                                                     \
      std::abort();                                                            \
    }                                                                          \
  } while (0)

#endif  // PARLEY_TESTS_FUZZ_FUZZ_UTIL_H_
