// Private: the regex warninglists' patterns compiled into one RE2::Set (regex.cc is the only file
// that sees RE2).
#ifndef KINSHIP_WARNINGLIST_REGEX_H_
#define KINSHIP_WARNINGLIST_REGEX_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace kinship::warninglist_internal {

class RegexSet {
 public:
  RegexSet();
  ~RegexSet();
  RegexSet(RegexSet&&) noexcept;
  RegexSet& operator=(RegexSet&&) noexcept;

  // Adds a MISP regex entry ("/^abuse@.*$/i" with PHP delimiters and flags, or a bare pattern);
  // returns its index, or -1 (with `error` set) when RE2 cannot compile it (e.g. backreferences).
  int Add(std::string_view misp_pattern, std::string* error);
  // Compiles the set; false when RE2 refuses (the set then matches nothing).
  bool Compile();
  bool empty() const;
  // Indices of the patterns that match `text`, unordered.
  void Match(std::string_view text, std::vector<int>* hits) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kinship::warninglist_internal

#endif  // KINSHIP_WARNINGLIST_REGEX_H_
