// The STIX 2.0/2.1 patterning language (STIX 2.1 part 9, grammar STIXPattern.g4): a parser to a
// small AST, and the observable values a pattern asserts. Hand-written recursive descent because
// no Debian package parses STIX patterns; the grammar is small and LL(1) once left recursion is
// turned into loops.
//
// Example:
//   auto p = stix::ParsePattern("[file:hashes.'SHA-256' = 'ab..'] WITHIN 60 SECONDS");
//   if (!p.ok()) ...;  // kInvalidArgument "char 17: expected ']'"
//   for (const stix::Comparison* c : p->Comparisons()) ...
//
// Thread-safe: no global state.
#ifndef KINSHIP_INGEST_STIX_PATTERN_H_
#define KINSHIP_INGEST_STIX_PATTERN_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "kinship/status.h"

namespace kinship::ingest::stix {

struct Literal {
  enum class Kind { kString, kInt, kFloat, kBool, kHex, kBinary, kTimestamp };
  Kind kind = Kind::kString;
  std::string text;  // kString: unescaped value; others: the literal's body as written
};

// `object_type:path` with path components: property names, "[3]" list indexes or "[*]".
struct ObjectPath {
  std::string object_type;              // "file", "network-traffic"
  std::vector<std::string> components;  // {"hashes", "SHA-256"}, {"dst_ref", "value"}
  std::string ToString() const;         // "file:hashes.SHA-256"
};

struct Comparison {
  ObjectPath path;
  bool negated = false;         // NOT before the operator
  std::string op;               // "=", "!=", ">", "<", ">=", "<=", "IN", "LIKE", "MATCHES",
                                // "ISSUBSET", "ISSUPERSET", "EXISTS"
  std::vector<Literal> values;  // one, or the IN set; empty for EXISTS
  size_t position = 0;          // 0-based offset of the object path in the pattern
};

// Inside `[ ... ]`: a comparison, or AND/OR of sub-expressions.
struct ComparisonExpr {
  enum class Kind { kComparison, kAnd, kOr };
  Kind kind = Kind::kComparison;
  Comparison comparison;                 // kComparison
  std::vector<ComparisonExpr> children;  // kAnd/kOr: two or more
};

struct Qualifier {
  enum class Kind { kWithin, kRepeats, kStartStop };
  Kind kind = Kind::kWithin;
  std::string a, b;  // WITHIN seconds; REPEATS count; START/STOP timestamps
};

// An observation expression: `[ ... ]`, or AND/OR/FOLLOWEDBY of observation expressions, each
// possibly qualified.
struct ObservationExpr {
  enum class Kind { kObservation, kAnd, kOr, kFollowedBy };
  Kind kind = Kind::kObservation;
  ComparisonExpr comparison;              // kObservation
  std::vector<ObservationExpr> children;  // others: two or more
  std::vector<Qualifier> qualifiers;
};

struct Pattern {
  ObservationExpr root;
  // Every comparison in the pattern, in source order. Valid while this Pattern lives.
  std::vector<const Comparison*> Comparisons() const;
};

// Parses `text`. Errors: kInvalidArgument "char N: message" (N is the 0-based byte offset in
// `text`) for a malformed pattern; kResourceExhausted naming kMaxStixPatternBytes or
// kMaxStixPatternDepth when a limit is hit. Cost: linear in the size of `text`.
absl::StatusOr<Pattern> ParsePattern(std::string_view text);

}  // namespace kinship::ingest::stix

#endif  // KINSHIP_INGEST_STIX_PATTERN_H_
