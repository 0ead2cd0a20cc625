#include <string>

#include "gtest/gtest.h"
#include "ingest/stix/pattern.h"
#include "kinship/limits.h"

namespace kinship::ingest::stix {
namespace {

Pattern ParseOk(const std::string& text) {
  auto p = ParsePattern(text);
  EXPECT_TRUE(p.ok()) << text << ": " << p.status();
  return p.ok() ? *std::move(p) : Pattern{};
}

// The message of a rejected pattern, asserting kInvalidArgument.
std::string Rejection(const std::string& text) {
  auto p = ParsePattern(text);
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument) << text;
  return std::string(p.status().message());
}

TEST(StixPattern, ParsesSimpleEquality) {
  Pattern p = ParseOk("[ipv4-addr:value = '198.51.100.1']");
  auto cmps = p.Comparisons();
  ASSERT_EQ(cmps.size(), 1u);
  EXPECT_EQ(cmps[0]->path.ToString(), "ipv4-addr:value");
  EXPECT_EQ(cmps[0]->op, "=");
  ASSERT_EQ(cmps[0]->values.size(), 1u);
  EXPECT_EQ(cmps[0]->values[0].kind, Literal::Kind::kString);
  EXPECT_EQ(cmps[0]->values[0].text, "198.51.100.1");
  EXPECT_EQ(cmps[0]->position, 1u);
}

TEST(StixPattern, QuotedPathComponentsAndRefs) {
  Pattern p = ParseOk(
      "[file:hashes.'SHA-256' = 'aa' AND network-traffic:dst_ref.value = '10.0.0.1' OR "
      "email-message:to_refs[*].value = 'a@b.c' AND x:list[-1].y = 3]");
  auto cmps = p.Comparisons();
  ASSERT_EQ(cmps.size(), 4u);
  EXPECT_EQ(cmps[0]->path.components, (std::vector<std::string>{"hashes", "SHA-256"}));
  EXPECT_EQ(cmps[1]->path.ToString(), "network-traffic:dst_ref.value");
  EXPECT_EQ(cmps[2]->path.ToString(), "email-message:to_refs[*].value");
  EXPECT_EQ(cmps[3]->path.ToString(), "x:list[-1].y");
  // OR binds looser than AND inside an observation.
  EXPECT_EQ(p.root.comparison.kind, ComparisonExpr::Kind::kOr);
  ASSERT_EQ(p.root.comparison.children.size(), 2u);
  EXPECT_EQ(p.root.comparison.children[0].kind, ComparisonExpr::Kind::kAnd);
}

TEST(StixPattern, ObservationOperatorsPrecedenceAndQualifiers) {
  Pattern p = ParseOk(
      "[a:b = 1] AND [c:d = 2] OR [e:f = 3] FOLLOWEDBY ([g:h = 4] REPEATS 5 TIMES) "
      "WITHIN 600 SECONDS START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00.123Z'");
  EXPECT_EQ(p.root.kind, ObservationExpr::Kind::kFollowedBy);
  ASSERT_EQ(p.root.children.size(), 2u);
  EXPECT_EQ(p.root.children[0].kind, ObservationExpr::Kind::kOr);
  EXPECT_EQ(p.root.children[0].children[0].kind, ObservationExpr::Kind::kAnd);
  const ObservationExpr& last = p.root.children[1];
  // A parenthesised single observation keeps its inner qualifier first, then the outer ones.
  ASSERT_EQ(last.qualifiers.size(), 3u);
  EXPECT_EQ(last.qualifiers[0].kind, Qualifier::Kind::kRepeats);
  EXPECT_EQ(last.qualifiers[1].kind, Qualifier::Kind::kWithin);
  EXPECT_EQ(last.qualifiers[1].a, "600");
  EXPECT_EQ(last.qualifiers[2].kind, Qualifier::Kind::kStartStop);
  EXPECT_EQ(last.qualifiers[2].b, "2016-07-01T00:00:00.123Z");
  EXPECT_EQ(last.kind, ObservationExpr::Kind::kObservation);
  EXPECT_EQ(p.Comparisons().size(), 4u);
}

TEST(StixPattern, InnerRepeatsQualifierStaysOnItsObservation) {
  Pattern p = ParseOk("([g:h = 4] REPEATS 5 TIMES)");
  ASSERT_EQ(p.root.qualifiers.size(), 1u);
  EXPECT_EQ(p.root.qualifiers[0].kind, Qualifier::Kind::kRepeats);
  EXPECT_EQ(p.root.qualifiers[0].a, "5");
}

TEST(StixPattern, AllOperatorsAndLiterals) {
  Pattern p = ParseOk(
      "[a:b != 'x' AND a:c > 1 AND a:d < -2 AND a:e >= 1.5 AND a:f <= -0.5 AND "
      "a:g IN ('x', 'y', 3) AND a:h LIKE 'foo%' AND a:i MATCHES '^a\\\\.b$' AND "
      "a:j ISSUBSET '10.0.0.0/8' AND a:k ISSUPERSET '10.0.0.0/24' AND a:l NOT = true AND "
      "a:m = h'0aFF' AND a:n = b'aGVsbG8=' AND a:o = t'2020-01-01T00:00:00Z' AND a:p == 'q' "
      "AND a:r <> 'bad' AND EXISTS a:s]");
  auto c = p.Comparisons();
  ASSERT_EQ(c.size(), 17u);
  EXPECT_EQ(c[0]->op, "!=");
  EXPECT_EQ(c[2]->values[0].kind, Literal::Kind::kInt);
  EXPECT_EQ(c[2]->values[0].text, "-2");
  EXPECT_EQ(c[3]->values[0].kind, Literal::Kind::kFloat);
  EXPECT_EQ(c[5]->op, "IN");
  EXPECT_EQ(c[5]->values.size(), 3u);
  EXPECT_EQ(c[7]->values[0].text, "^a\\.b$");
  EXPECT_TRUE(c[10]->negated);
  EXPECT_EQ(c[10]->values[0].kind, Literal::Kind::kBool);
  EXPECT_EQ(c[11]->values[0].kind, Literal::Kind::kHex);
  EXPECT_EQ(c[12]->values[0].kind, Literal::Kind::kBinary);
  EXPECT_EQ(c[13]->values[0].kind, Literal::Kind::kTimestamp);
  EXPECT_EQ(c[14]->op, "=");
  EXPECT_EQ(c[15]->op, "!=");
  EXPECT_EQ(c[16]->op, "EXISTS");
  EXPECT_EQ(c[16]->path.ToString(), "a:s");
}

TEST(StixPattern, UnescapesQuotesAndBackslashes) {
  Pattern p = ParseOk("[file:name = 'it\\'s a \\\\ test']");
  EXPECT_EQ(p.Comparisons()[0]->values[0].text, "it's a \\ test");
}

TEST(StixPattern, ParenthesisedComparisons) {
  Pattern p = ParseOk("[(a:b = 'x' OR a:c = 'y') AND a:d = 'z']");
  EXPECT_EQ(p.root.comparison.kind, ComparisonExpr::Kind::kAnd);
  EXPECT_EQ(p.root.comparison.children[0].kind, ComparisonExpr::Kind::kOr);
}

TEST(StixPattern, RejectsMissingCloseBracketWithPosition) {
  EXPECT_EQ(Rejection("[ipv4-addr:value = '1.2.3.4'"),
            "char 28: expected ']' or AND/OR, found end of pattern");
}

TEST(StixPattern, RejectsMalformedPatternsAtTheirPosition) {
  EXPECT_EQ(Rejection(""), "char 0: expected '[' or '(', found end of pattern");
  EXPECT_EQ(Rejection("ipv4-addr:value = 'x'"), "char 0: expected '[' or '(', found 'ipv4-addr'");
  EXPECT_EQ(Rejection("[ipv4-addr value = 'x']"),
            "char 11: expected ':' after the object type, found 'value'");
  EXPECT_EQ(Rejection("[a:b = 'x' ] AND"), "char 16: expected '[' or '(', found end of pattern");
  EXPECT_EQ(Rejection("[a:b = 'x] "), "char 7: unterminated string");
  EXPECT_EQ(Rejection("[a:b = 'x\\n']"),
            "char 9: invalid escape in string (only \\' and \\\\ are allowed)");
  EXPECT_EQ(Rejection("[a:b ~ 'x']"), "char 5: unexpected character '~'");
  EXPECT_EQ(Rejection("[a:b = 'x'] WITHIN -5 SECONDS"),
            "char 19: expected a positive number of seconds, found '-5'");
  EXPECT_EQ(Rejection("[a:b = 'x'] REPEATS 5"), "char 21: expected TIMES, found end of pattern");
  EXPECT_EQ(Rejection("[a:b = h'abc']"), "char 7: hex literal needs an even number of digits");
  EXPECT_EQ(Rejection("[a:b = t'2020-01-01']"),
            "char 7: timestamp literal is not YYYY-MM-DDTHH:MM:SS[.s]Z");
  EXPECT_EQ(Rejection("[a:b > true]"), "char 7: expected an orderable literal, found 'true'");
  EXPECT_EQ(Rejection("[a:b IN ('x' 'y')]"),
            "char 13: expected ',' or ')' in the IN set, found a string");
  EXPECT_EQ(Rejection("[a:b LIKE 3]"), "char 10: expected a string after LIKE, found '3'");
  EXPECT_EQ(Rejection("[a:b = 'x'] [c:d = 'y']"),
            "char 12: expected an observation operator or end of pattern, found '['");
  EXPECT_EQ(Rejection("[AND:b = 'x']"), "char 1: expected an object type, found 'AND'");
  EXPECT_EQ(Rejection("[a:b = 'x' AND]"), "char 14: expected an object type, found ']'");
}

TEST(StixPattern, RejectsNestingBeyondTheLimit) {
  std::string deep(limits::kMaxStixPatternDepth + 1, '(');
  deep += "[a:b = 'x']";
  deep += std::string(limits::kMaxStixPatternDepth + 1, ')');
  auto p = ParsePattern(deep);
  EXPECT_EQ(p.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(p.status().message().find("kMaxStixPatternDepth"), absl::string_view::npos);
  std::string ok(limits::kMaxStixPatternDepth - 1, '(');
  ok += "[a:b = 'x']";
  ok += std::string(limits::kMaxStixPatternDepth - 1, ')');
  EXPECT_TRUE(ParsePattern(ok).ok());
}

TEST(StixPattern, RejectsPatternsBeyondTheSizeLimit) {
  std::string big = "[a:b = '" + std::string(limits::kMaxStixPatternBytes, 'x') + "']";
  EXPECT_EQ(ParsePattern(big).status().code(), absl::StatusCode::kResourceExhausted);
}

TEST(StixPattern, LongFlatChainsDoNotRecurse) {
  std::string text = "[a:b = 'x']";
  for (int i = 0; i < 3000; ++i) text += " OR [a:b = 'x']";
  Pattern p = ParseOk(text);
  EXPECT_EQ(p.root.children.size(), 3001u);
  EXPECT_EQ(p.Comparisons().size(), 3001u);
}

}  // namespace
}  // namespace kinship::ingest::stix
