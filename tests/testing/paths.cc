#include "tests/testing/paths.h"

namespace parley::testing {

std::string SourceDir() { return PARLEY_SOURCE_DIR; }
std::string BinaryDir() { return PARLEY_BINARY_DIR; }

}  // namespace parley::testing
