#include "index/tlsh_libtlsh.h"

#include <tlsh.h>

#include <string>

namespace kinship::internal {
namespace {

absl::Status Load(std::string_view text, Tlsh& out) {
  if (text.size() == 72 && (text[0] == 'T' || text[0] == 't') && text[1] == '1') {
    text.remove_prefix(2);
  }
  if (text.size() != 70) return absl::InvalidArgumentError("libtlsh: digest is not 70 hex");
  std::string s(text);
  if (out.fromTlshStr(s.c_str()) != 0) return absl::InvalidArgumentError("libtlsh: bad digest");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<int> LibTlshDistance(std::string_view a, std::string_view b, bool include_length) {
  Tlsh ta, tb;
  if (absl::Status s = Load(a, ta); !s.ok()) return s;
  if (absl::Status s = Load(b, tb); !s.ok()) return s;
  return ta.totalDiff(&tb, include_length);
}

absl::StatusOr<std::string> LibTlshHash(std::string_view data) {
  Tlsh t;
  t.update(reinterpret_cast<const unsigned char*>(data.data()),
           static_cast<unsigned int>(data.size()));
  t.final();
  // getHash(buffer, size) returns "" in 3.4.4 even for valid input; the cached form works.
  const char* hash = t.getHash();
  std::string out = hash == nullptr ? "" : hash;
  if (out.empty()) return absl::InvalidArgumentError("libtlsh: no digest for this input");
  return out;
}

}  // namespace kinship::internal
