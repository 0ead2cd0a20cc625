// SHA-256 of a byte string as lower-case hex (nettle adapter; the only place nettle is used).
#ifndef KINSHIP_UTIL_SHA256_H_
#define KINSHIP_UTIL_SHA256_H_

#include <string>
#include <string_view>

namespace kinship::util {

std::string Sha256Hex(std::string_view bytes);

}  // namespace kinship::util

#endif  // KINSHIP_UTIL_SHA256_H_
