// Multi-pattern scanning behind one interface (the only place Hyperscan is used). The extractor
// asks it for candidate positions; exact extraction (RE2) runs on candidates only.
#ifndef KINSHIP_EXTRACT_HS_PATTERNS_H_
#define KINSHIP_EXTRACT_HS_PATTERNS_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "kinship/status.h"

namespace kinship::extract::internal {

// A compiled, immutable set of patterns in block mode. Scan is thread-safe (per-thread scratch).
class PatternSet {
 public:
  struct Pattern {
    std::string expression;  // PCRE-style regex, or a literal for CompileLiterals
    unsigned id = 0;
    bool caseless = false;
  };

  // Regexes; matches report their end offset only (no start-of-match tracking, which is what
  // keeps Hyperscan fast). Errors: kInvalidArgument naming the pattern that failed.
  static absl::StatusOr<PatternSet> Compile(const std::vector<Pattern>& patterns);
  // Exact literals (any bytes); a match of literal i ends at `end`, so it starts at
  // end - length. Errors: kInvalidArgument.
  static absl::StatusOr<PatternSet> CompileLiterals(const std::vector<Pattern>& literals);

  PatternSet();
  ~PatternSet();
  PatternSet(PatternSet&&) noexcept;
  PatternSet& operator=(PatternSet&&) noexcept;

  bool empty() const;

  // Calls on_match(id, end) for every match, in increasing `end` order (ties in any order). An
  // empty set scans nothing.
  void Scan(std::string_view text, absl::FunctionRef<void(unsigned id, size_t end)> on_match) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kinship::extract::internal

#endif  // KINSHIP_EXTRACT_HS_PATTERNS_H_
