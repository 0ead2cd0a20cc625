// The one adapter over Debian's libtlsh (3.4.4): used as the reference oracle in tests.
// Everything libtlsh touches stays inside tlsh_libtlsh.cc.
#ifndef KINSHIP_INDEX_TLSH_LIBTLSH_H_
#define KINSHIP_INDEX_TLSH_LIBTLSH_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace kinship::internal {

// libtlsh's totalDiff() on two digests in either text form ("T1" is stripped, since the
// library only reads the legacy form). Errors: kInvalidArgument if libtlsh rejects a digest.
absl::StatusOr<int> LibTlshDistance(std::string_view a, std::string_view b, bool include_length);

// libtlsh's digest (legacy 70-hex form) of `data`. Errors: kInvalidArgument if libtlsh
// produces none (input too short or too uniform).
absl::StatusOr<std::string> LibTlshHash(std::string_view data);

}  // namespace kinship::internal

#endif  // KINSHIP_INDEX_TLSH_LIBTLSH_H_
