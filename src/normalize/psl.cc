// Adapter over libpsl's built-in Public Suffix List (read-only, so thread-safe). Callers never
// pass an IP address here (RegisteredDomain checks first): libpsl would treat "1.2.3.4" as a name.
#include <libpsl.h>

#include <string>

#include "normalize/adapters.h"

namespace kinship::normalize::internal {

bool PslKnownTld(std::string_view domain) {
  const size_t dot = domain.rfind('.');
  std::string tld(dot == std::string_view::npos ? domain : domain.substr(dot + 1));
  if (tld.empty()) return false;
  // PSL_TYPE_NO_STAR_RULE: without it every label is a suffix through the implicit "*" rule.
  return psl_is_public_suffix2(psl_builtin(), tld.c_str(), PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE) !=
         0;
}

std::optional<std::string> PslRegistrableDomain(std::string_view domain) {
  if (domain.empty() || !PslKnownTld(domain)) return std::nullopt;
  std::string name(domain);
  const char* reg = psl_registrable_domain(psl_builtin(), name.c_str());
  if (reg == nullptr) return std::nullopt;
  return std::string(reg);
}

}  // namespace kinship::normalize::internal
