// The extractor's engine, reachable without the normalize stage (tests pass their own Checks).
#ifndef KINSHIP_EXTRACT_EXTRACT_INTERNAL_H_
#define KINSHIP_EXTRACT_EXTRACT_INTERNAL_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "extract/classify.h"
#include "extract/hs_patterns.h"
#include "kinship/extract.h"
#include "kinship/status.h"

namespace kinship::extract {

struct NameCatalog::Impl {
  std::vector<Entry> entries;
  // One matched name: which entry, and the literal.
  struct Name {
    size_t entry;
    std::string text;
  };
  std::vector<Name> names;
  internal::PatternSet set;  // literals; id = index into names
};

namespace internal {

// Finds everything in `doc`. `catalog` may be null.
Result ExtractWith(const Document& doc, const NameCatalog* catalog, const ExtractOptions& options,
                   const Checks& checks);

// One name found in text: [begin, end) and the catalog entry.
struct NameHit {
  size_t begin, end;
  size_t entry;
};
// Whole-word, longest-first, non-overlapping catalog hits in `text`, by position.
std::vector<NameHit> FindNames(const NameCatalog& catalog, std::string_view text);

// Number of candidate-pattern matches in `text` (the Hyperscan pass alone; for benchmarks).
size_t CountCandidates(std::string_view text);

// The first date written in `line` as "YYYY-MM-DD": ISO 8601 (2018-11-20, 2018/11/20, with or
// without a time), "20 November 2018", "November 20, 2018" (English month names or their
// abbreviations, ordinals allowed), "20.11.2018" (day first; never US "11/20/2018", which is
// ambiguous); years 1990-2099, days checked against the month.
std::optional<std::string> FindDate(std::string_view line);
// The first date in the first 12 non-empty lines of `text` (a title page, a header), else "".
std::string DateInOpening(std::string_view text);

// Title when the converter found none: first Markdown heading, else first non-empty line.
std::string GuessTitle(std::string_view text);

}  // namespace internal
}  // namespace kinship::extract

#endif  // KINSHIP_EXTRACT_EXTRACT_INTERNAL_H_
