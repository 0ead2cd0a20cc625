// What the two snapshot fuzz targets share (snapshot_fuzzer, style_snapshot_fuzzer): a snapshot
// that passes its header is one this very build wrote, so the input edits a valid snapshot made
// at start-up rather than replacing it; and a load may fail only as damaged (kDataLoss) or not
// current (kFailedPrecondition).
#ifndef KINSHIP_FUZZ_SNAPSHOT_FUZZ_H_
#define KINSHIP_FUZZ_SNAPSHOT_FUZZ_H_

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace kinship::fuzz {

// The bytes `save(path)` writes to a temporary file (removed after); aborts if it fails.
template <typename SaveFn>
std::string SavedBytes(std::string_view name, SaveFn&& save) {
  const std::string path =
      (std::filesystem::temp_directory_path() / absl::StrCat(std::string(name), ".", ::getpid()))
          .string();
  if (!save(path).ok()) std::abort();
  std::ifstream in(path, std::ios::binary);
  std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  std::filesystem::remove(path);
  return bytes;
}

// `seed` edited by the input: the first four bytes may cut it to a length (one input in four),
// every further five bytes overwrite one byte (a 32-bit position, then the value).
inline std::string Edited(const std::string& seed, const uint8_t* data, size_t size) {
  std::string bytes = seed;
  if (size >= 4) {
    uint32_t cut;
    std::memcpy(&cut, data, 4);
    if (cut % 4 == 0) bytes.resize(cut / 4 % (seed.size() + 1));
    for (size_t i = 4; i + 5 <= size && !bytes.empty(); i += 5) {
      uint32_t at;
      std::memcpy(&at, data + i, 4);
      bytes[at % bytes.size()] = static_cast<char>(data[i + 4]);
    }
  }
  return bytes;
}

// Aborts unless a failed load failed as damaged or not current.
inline void CheckLoadError(const absl::Status& status) {
  const absl::StatusCode c = status.code();
  if (c != absl::StatusCode::kDataLoss && c != absl::StatusCode::kFailedPrecondition) std::abort();
}

}  // namespace kinship::fuzz

#endif  // KINSHIP_FUZZ_SNAPSHOT_FUZZ_H_
