// MISP warninglists: values that look like indicators but are benign or too common (public
// resolvers, top sites, cloud ranges, RFC 1918 space). A match marks an indicator known-benign:
// it is kept and shown, but carries no weight in scoring.
//
// Example:
//   KINSHIP_ASSIGN_OR_RETURN(auto lists, LoadWarninglistDir("/data/misp-warninglists"));
//   WarninglistMatcher m(std::move(lists));
//   std::vector<std::string> hits = m.Match(indicator);  // {"List of known IPv4 public DNS..."}
#ifndef KINSHIP_WARNINGLIST_H_
#define KINSHIP_WARNINGLIST_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kinship/model.h"
#include "kinship/status.h"

namespace kinship {

// One list as MISP ships it (lists/<name>/list.json).
struct Warninglist {
  std::string name;   // folder name, e.g. "public-dns-v4"
  std::string title;  // the list's "name" field
  std::string type;   // "string", "substring", "hostname", "cidr" or "regex"
  int version = 0;
  std::vector<std::string> matching_attributes;  // MISP attribute types it applies to; may be empty
  std::vector<std::string> entries;
};

// Parses one list.json. `name` is the folder name. Errors: kInvalidArgument naming the file and
// JSON path for malformed content or an unknown list type.
absl::StatusOr<Warninglist> ParseWarninglist(std::string_view json, std::string_view name,
                                             std::string_view file);

// Loads every <dir>/<name>/list.json (MISP's layout; also accepts <dir>/lists/<name>/list.json).
// Errors: kNotFound when the folder has no list; kInvalidArgument for a malformed list.
absl::StatusOr<std::vector<Warninglist>> LoadWarninglistDir(const std::string& dir);

// Matches canonical indicators against a set of lists. Immutable after construction; Match is
// thread-safe. Construction cost is linear in the total entries (CIDR lists are compiled to a
// prefix structure, hostname lists to a hash set of suffixes, regexes to one RE2::Set).
class WarninglistMatcher {
 public:
  explicit WarninglistMatcher(std::vector<Warninglist> lists);
  ~WarninglistMatcher();
  WarninglistMatcher(WarninglistMatcher&&) noexcept;
  WarninglistMatcher& operator=(WarninglistMatcher&&) noexcept;

  // Names (Warninglist::name) of the lists that `indicator` (valid, canonical) matches, in list
  // order. Respects each list's type and matching_attributes: a hostname list matches a domain,
  // its subdomains and URL hosts; a cidr list matches IPs inside any range.
  std::vector<std::string> Match(const Indicator& indicator) const;

  const std::vector<Warninglist>& lists() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kinship

#endif  // KINSHIP_WARNINGLIST_H_
