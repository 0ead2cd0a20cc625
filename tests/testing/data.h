// Where tests find the shared real data: $KINSHIP_DATA, else ../shared/data beside the source
// tree. A test that needs it and cannot find it FAILS loudly (CI always has it).
#ifndef KINSHIP_TESTS_TESTING_DATA_H_
#define KINSHIP_TESTS_TESTING_DATA_H_

#include <string>

namespace kinship::testing {

// Absolute path of the shared data folder; records a fatal test failure (and returns "") when it
// does not exist. Use as: `std::string dir = DataDir(); ASSERT_FALSE(dir.empty());`
std::string DataDir();

// DataDir() + "/" + relative, failing the test loudly when that file or folder is missing.
std::string DataPath(const std::string& relative);

// Reads a whole file; fails the test when it cannot.
std::string ReadFileOrDie(const std::string& path);

// The repository's source directory (for examples/, tests/cases/ ...).
std::string SourceDir();

// A fresh empty temporary directory, removed at process exit.
std::string TempDir();

// Whether this build has AddressSanitizer: GCC defines __SANITIZE_ADDRESS__, clang 14 (the
// fuzzing build's compiler) answers __has_feature only.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kAddressSanitizer = true;
#else
inline constexpr bool kAddressSanitizer = false;
#endif
#else
inline constexpr bool kAddressSanitizer = false;
#endif

}  // namespace kinship::testing

#endif  // KINSHIP_TESTS_TESTING_DATA_H_
