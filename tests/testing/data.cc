#include "testing/data.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace kinship::testing {
namespace fs = std::filesystem;

std::string SourceDir() {
  if (const char* s = std::getenv("KINSHIP_SOURCE_DIR"); s != nullptr && *s) return s;
#ifdef KINSHIP_SOURCE_DIR_DEFAULT
  return KINSHIP_SOURCE_DIR_DEFAULT;
#else
  return fs::current_path().string();
#endif
}

std::string DataDir() {
  std::string dir;
  if (const char* d = std::getenv("KINSHIP_DATA"); d != nullptr && *d) {
    dir = d;
  } else {
    dir = (fs::path(SourceDir()) / ".." / "shared" / "data").lexically_normal().string();
  }
  if (!fs::is_directory(dir)) {
    ADD_FAILURE() << "\n*** kinship test data not found at '" << dir
                  << "'. Set KINSHIP_DATA to the shared data folder (../shared/data). ***\n";
    return "";
  }
  return fs::absolute(dir).string();
}

std::string DataPath(const std::string& relative) {
  std::string dir = DataDir();
  if (dir.empty()) return "";
  std::string p = dir + "/" + relative;
  if (!fs::exists(p)) {
    ADD_FAILURE() << "\n*** shared data file missing: " << p << " ***\n";
    return "";
  }
  return p;
}

std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "cannot read " << path;
    return "";
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string TempDir() {
  static int counter = 0;
  fs::path base = fs::temp_directory_path() /
                  ("kinship-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  fs::remove_all(base);
  fs::create_directories(base);
  static std::vector<fs::path>* dirs = new std::vector<fs::path>();
  if (dirs->empty()) {
    std::atexit([] {
      for (auto& d : *dirs) {
        std::error_code ec;
        fs::remove_all(d, ec);
      }
    });
  }
  dirs->push_back(base);
  return base.string();
}

}  // namespace kinship::testing
