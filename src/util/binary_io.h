// Fixed-width binary files: the writer and the checked reader of the index snapshot
// (src/index/snapshot.cc) and the naming-style snapshot (src/attrib/style_snapshot.cc). Written
// by hand: both files are a few flat arrays that no packaged serialiser stores more simply, and
// the reader must refuse any count that does not fit in what is left of the file (the snapshot
// fuzzers feed it anything).
//
// Host byte order (each file checks a marker); a string or an array is a u64 count and its bytes.
#ifndef KINSHIP_UTIL_BINARY_IO_H_
#define KINSHIP_UTIL_BINARY_IO_H_

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "kinship/status.h"

namespace kinship::util {

class BinaryWriter {
 public:
  explicit BinaryWriter(std::FILE* f) : f_(f) {}
  void Bytes(const void* p, size_t n) {
    if (ok_ && n > 0 && std::fwrite(p, 1, n, f_) != n) ok_ = false;
  }
  template <typename T>
  void Put(T v) {
    Bytes(&v, sizeof v);
  }
  void Str(std::string_view s) {
    Put<uint64_t>(s.size());
    Bytes(s.data(), s.size());
  }
  template <typename T>
  void Array(const std::vector<T>& v) {
    Put<uint64_t>(v.size());
    Bytes(v.data(), v.size() * sizeof(T));
  }
  bool ok() const { return ok_; }

 private:
  std::FILE* f_;
  bool ok_ = true;
};

// Reads from a file or from memory; every failure is a kDataLoss naming the source, the byte
// offset and what the file is (`kind`, e.g. "index snapshot").
class BinaryReader {
 public:
  BinaryReader(std::string name, std::string kind, std::FILE* f, size_t size)
      : name_(std::move(name)), kind_(std::move(kind)), f_(f), size_(size) {}
  BinaryReader(std::string name, std::string kind, std::string_view bytes)
      : name_(std::move(name)), kind_(std::move(kind)), mem_(bytes), size_(bytes.size()) {}

  absl::Status Fail(std::string_view what) const {
    return absl::DataLossError(
        absl::StrCat(name_, ": byte ", at_, ": ", AV(what), " (", kind_, " damaged or truncated)"));
  }
  absl::Status Bytes(void* p, size_t n, std::string_view what) {
    if (n > size_ - at_) return Fail(absl::StrCat(AV(what), ": ends early"));
    if (n == 0) return absl::OkStatus();
    if (f_ != nullptr) {
      if (std::fread(p, 1, n, f_) != n) return Fail(absl::StrCat(AV(what), ": read failed"));
    } else {
      std::memcpy(p, mem_.data() + at_, n);
    }
    at_ += n;
    return absl::OkStatus();
  }
  template <typename T>
  absl::StatusOr<T> Get(std::string_view what) {
    T v{};
    KINSHIP_RETURN_IF_ERROR(Bytes(&v, sizeof v, what));
    return v;
  }
  // A count of items of `item_bytes` each that must fit in what is left.
  absl::StatusOr<size_t> Count(size_t item_bytes, std::string_view what) {
    KINSHIP_ASSIGN_OR_RETURN(uint64_t n, Get<uint64_t>(what));
    if (item_bytes > 0 && n > (size_ - at_) / item_bytes) {
      return Fail(absl::StrCat(AV(what), ": count ", n, " exceeds the file"));
    }
    return static_cast<size_t>(n);
  }
  absl::StatusOr<std::string> Str(std::string_view what) {
    KINSHIP_ASSIGN_OR_RETURN(size_t n, Count(1, what));
    std::string s(n, '\0');
    KINSHIP_RETURN_IF_ERROR(Bytes(s.data(), n, what));
    return s;
  }
  template <typename T>
  absl::StatusOr<std::vector<T>> Array(std::string_view what) {
    KINSHIP_ASSIGN_OR_RETURN(size_t n, Count(sizeof(T), what));
    std::vector<T> v(n);
    KINSHIP_RETURN_IF_ERROR(Bytes(v.data(), n * sizeof(T), what));
    return v;
  }
  size_t remaining() const { return size_ - at_; }
  bool at_end() const { return at_ == size_; }

 private:
  std::string name_, kind_;
  std::FILE* f_ = nullptr;
  std::string_view mem_;
  size_t size_ = 0, at_ = 0;
};

// Writes a file by `write` into PATH.tmp.PID, flushed and synced, then renamed over `path`: a
// reader sees the old file or the whole new one. `kind` names the file in errors.
// Errors: kUnavailable naming the file and the system's reason.
absl::Status WriteFileAtomically(const std::string& path, std::string_view kind,
                                 const std::function<void(BinaryWriter&)>& write);

// Opens `path` and hands `read` a reader over it (buffered, 1 MiB). Errors: kNotFound when it
// cannot be opened, else what `read` returns.
template <typename T>
absl::StatusOr<T> ReadFile(const std::string& path, std::string_view kind,
                           const std::function<absl::StatusOr<T>(BinaryReader&)>& read);

template <typename T>
absl::StatusOr<T> ReadFile(const std::string& path, std::string_view kind,
                           const std::function<absl::StatusOr<T>(BinaryReader&)>& read) {
  std::error_code ec;
  const uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) return absl::NotFoundError(absl::StrCat(path, ": ", ec.message()));
  std::vector<char> buffer(size_t{1} << 20);  // outlives the stream, closed first
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (f == nullptr) return absl::NotFoundError(absl::StrCat(path, ": ", std::strerror(errno)));
  std::setvbuf(f.get(), buffer.data(), _IOFBF, buffer.size());
  BinaryReader r(path, std::string(kind), f.get(), static_cast<size_t>(size));
  return read(r);
}

}  // namespace kinship::util

#endif  // KINSHIP_UTIL_BINARY_IO_H_
