// The extractor's engine, reachable without the normalize stage (tests pass their own Checks).
#ifndef KINSHIP_EXTRACT_EXTRACT_INTERNAL_H_
#define KINSHIP_EXTRACT_EXTRACT_INTERNAL_H_

#include <string>
#include <string_view>
#include <vector>

#include "extract/classify.h"
#include "extract/hs_patterns.h"
#include "kinship/extract.h"

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

// Title when the converter found none: first Markdown heading, else first non-empty line.
std::string GuessTitle(std::string_view text);

}  // namespace internal
}  // namespace kinship::extract

#endif  // KINSHIP_EXTRACT_EXTRACT_INTERNAL_H_
