#include "util/binary_io.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace kinship::util {

absl::Status WriteFileAtomically(const std::string& path, std::string_view kind,
                                 const std::function<void(BinaryWriter&)>& write) {
  const std::string tmp = absl::StrCat(path, ".tmp.", ::getpid());
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) {
    return absl::UnavailableError(absl::StrCat(tmp, ": cannot write: ", std::strerror(errno)));
  }
  std::vector<char> buffer(size_t{1} << 20);
  std::setvbuf(f, buffer.data(), _IOFBF, buffer.size());
  BinaryWriter w(f);
  write(w);
  bool ok = w.ok() && std::fflush(f) == 0 && ::fsync(::fileno(f)) == 0;
  const int err = errno;
  ok = std::fclose(f) == 0 && ok;
  std::error_code ec;
  if (ok) std::filesystem::rename(tmp, path, ec);
  if (!ok || ec) {
    std::filesystem::remove(tmp, ec);
    return absl::UnavailableError(absl::StrCat(path, ": cannot write the ", AV(kind), ": ",
                                               ec ? ec.message() : std::strerror(err)));
  }
  return absl::OkStatus();
}

}  // namespace kinship::util
