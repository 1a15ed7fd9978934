// Where the checkout and build tree of the running test binary are.
//
// Only tests/testing/paths.cc is compiled with these paths, so every other
// test file's compile line is the same in every clone and ccache shares its
// object between clones (CCACHE_BASEDIR, deploy/debian-deps.sh).
#ifndef PARLEY_TESTS_TESTING_PATHS_H_
#define PARLEY_TESTS_TESTING_PATHS_H_

#include <string>

namespace parley::testing {

// The source checkout, e.g. for files under tests/vectors/ and testdata/.
std::string SourceDir();

// The build tree (parleyd, parley and other built programs).
std::string BinaryDir();

}  // namespace parley::testing

#endif  // PARLEY_TESTS_TESTING_PATHS_H_
