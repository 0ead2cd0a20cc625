// Version-5 UUIDs through libuuid (util-linux's uuid_generate_sha1).
#include "kinship/stix_id.h"

#include <uuid/uuid.h>

#include <string>

#include "absl/strings/str_cat.h"

namespace kinship::stix {

absl::StatusOr<std::string> UuidV5(std::string_view namespace_uuid, std::string_view name) {
  const std::string text(namespace_uuid);
  uuid_t ns;
  if (text.size() != 36 || uuid_parse(text.c_str(), ns) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("not a UUID: '", text, "'"));
  }
  uuid_t out;
  uuid_generate_sha1(out, ns, name.data(), name.size());
  char buf[37];
  uuid_unparse_lower(out, buf);
  return std::string(buf, 36);
}

std::string KinshipId(std::string_view type, std::string_view name) {
  // The namespace is a constant UUID: UuidV5 cannot fail on it.
  return absl::StrCat(std::string(type), "--", *UuidV5(kKinshipNamespace, name));
}

}  // namespace kinship::stix
