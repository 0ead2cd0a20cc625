// Adapter over libpsl's built-in Public Suffix List (read-only, so thread-safe). Callers never
// pass an IP address here (RegisteredDomain checks first): libpsl would treat "1.2.3.4" as a name.
#include <libpsl.h>

#include <string>

#include "normalize/adapters.h"

namespace kinship::normalize::internal {

namespace {

// Some top-level domains appear in the list only below themselves: ".za" has "co.za" and
// "org.za" but no "za" rule, ".ck" and ".bn" only wildcards ("*.ck"). So walk the suffixes from
// the last label outwards and accept the name once one of them is an explicit rule (plain or
// wildcard). PSL_TYPE_NO_STAR_RULE: without it every label is a suffix through the implicit "*"
// rule. Most names stop at the first step (their TLD is a rule). `name` is NUL-terminated, so
// each suffix is a tail of it and nothing is copied.
bool EndsInListedSuffix(const std::string& name) {
  size_t end = name.size();
  while (end > 0) {
    const size_t dot = name.rfind('.', end - 1);
    const size_t start = dot == std::string::npos ? 0 : dot + 1;
    if (start >= name.size()) return false;  // empty last label
    if (psl_is_public_suffix2(psl_builtin(), name.c_str() + start,
                              PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE) != 0) {
      return true;
    }
    if (dot == std::string::npos || dot == 0) return false;
    end = dot;
  }
  return false;
}

}  // namespace

bool PslKnownTld(std::string_view domain) { return EndsInListedSuffix(std::string(domain)); }

std::optional<std::string> PslRegistrableDomain(std::string_view domain) {
  if (domain.empty()) return std::nullopt;
  const std::string name(domain);
  if (!EndsInListedSuffix(name)) return std::nullopt;
  const char* reg = psl_registrable_domain(psl_builtin(), name.c_str());
  if (reg == nullptr) return std::nullopt;
  return std::string(reg);
}

}  // namespace kinship::normalize::internal
