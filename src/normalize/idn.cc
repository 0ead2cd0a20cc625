// Adapter over libidn2: internationalised domain names to their ASCII (punycode) form.
#include <idn2.h>

#include <cstdlib>
#include <string>

#include "normalize/adapters.h"

namespace kinship::normalize::internal {

std::optional<std::string> IdnToAscii(std::string_view utf8, std::string* error) {
  if (utf8.find('\0') != std::string_view::npos) {  // libidn2 would stop at it
    if (error != nullptr) *error = "NUL byte in name";
    return std::nullopt;
  }
  std::string in(utf8);
  // UTS #46 non-transitional processing (IDNA 2008 as browsers do it: "ß" stays "ß"); names that
  // only pass the transitional mapping (IDNA 2003 compatibility) get a second chance.
  const int attempts[] = {IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL,
                          IDN2_NFC_INPUT | IDN2_TRANSITIONAL};
  int rc = IDN2_OK;
  for (int flags : attempts) {
    char* out = nullptr;
    rc = idn2_lookup_u8(reinterpret_cast<const uint8_t*>(in.c_str()),
                        reinterpret_cast<uint8_t**>(&out), flags);
    if (rc == IDN2_OK && out != nullptr) {
      std::string result(out);
      idn2_free(out);
      return result;
    }
    idn2_free(out);
  }
  if (error != nullptr) *error = idn2_strerror(rc);
  return std::nullopt;
}

}  // namespace kinship::normalize::internal
