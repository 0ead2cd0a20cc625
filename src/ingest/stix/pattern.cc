// Recursive-descent parser for the STIX patterning grammar (STIX 2.1 CS02 section 9 and the
// OASIS cti-pattern-validator ANTLR grammar STIXPattern.g4). Written by hand: no Debian package
// implements it, and the grammar is small. Left-recursive rules become loops; precedence from
// loosest: FOLLOWEDBY, OR, AND between observations; OR, AND inside `[ ]`.
#include "ingest/stix/pattern.h"

#include <algorithm>
#include <cctype>
#include <utility>

#include "absl/strings/str_cat.h"
#include "kinship/limits.h"

namespace kinship::ingest::stix {
namespace {

enum class Tok {
  kEnd,
  kLBracket,
  kRBracket,
  kLParen,
  kRParen,
  kComma,
  kColon,
  kDot,
  kStar,
  kOp,         // = == != <> > < >= <=
  kIdent,      // identifiers and keywords (keywords are upper case and checked by text)
  kString,     // '...'
  kInt,        // [+-]?digits
  kFloat,      // [+-]?digits.digits
  kHex,        // h'..'
  kBinary,     // b'..'
  kTimestamp,  // t'..'
  kBool,       // true / false
};

struct Token {
  Tok kind = Tok::kEnd;
  std::string text;  // unescaped for strings, literal body for h/b/t
  size_t pos = 0;
};

bool IsIdentStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsIdentChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool IsKeyword(std::string_view s) {
  static constexpr std::string_view kKeywords[] = {
      "AND",    "OR", "NOT",   "FOLLOWEDBY", "LIKE",    "MATCHES", "ISSUPERSET", "ISSUBSET",
      "EXISTS", "IN", "START", "STOP",       "SECONDS", "WITHIN",  "REPEATS",    "TIMES"};
  for (std::string_view k : kKeywords) {
    if (s == k) return true;
  }
  return false;
}

// t'YYYY-MM-DDTHH:MM:SS[.s+]Z' body, as the grammar's TimestampLiteral.
bool ValidTimestamp(std::string_view s) {
  static constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd";
  if (s.size() < kShape.size() + 1) return false;
  for (size_t i = 0; i < kShape.size(); ++i) {
    if (kShape[i] == 'd' ? !IsDigit(s[i]) : s[i] != kShape[i]) return false;
  }
  size_t i = kShape.size();
  if (s[i] == '.') {
    ++i;
    size_t start = i;
    while (i < s.size() && IsDigit(s[i])) ++i;
    if (i == start) return false;
  }
  return i + 1 == s.size() && s[i] == 'Z';
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  absl::StatusOr<Pattern> Parse() {
    if (text_.size() > limits::kMaxStixPatternBytes) {
      return absl::ResourceExhaustedError(absl::StrCat("pattern of ", text_.size(),
                                                       " bytes exceeds kMaxStixPatternBytes (",
                                                       limits::kMaxStixPatternBytes, ")"));
    }
    KINSHIP_RETURN_IF_ERROR(Advance());
    Pattern p;
    KINSHIP_RETURN_IF_ERROR(ParseFollowedBy(&p.root));
    if (cur_.kind != Tok::kEnd) return Unexpected("an observation operator or end of pattern");
    return p;
  }

 private:
  absl::Status Error(size_t pos, std::string_view message) const {
    return absl::InvalidArgumentError(absl::StrCat("char ", pos, ": ", AV(message)));
  }

  std::string Describe(const Token& t) const {
    switch (t.kind) {
      case Tok::kEnd:
        return "end of pattern";
      case Tok::kString:
        return "a string";
      default:
        return absl::StrCat("'", AV(text_.substr(t.pos, std::max<size_t>(1, pos_ - t.pos))), "'");
    }
  }

  absl::Status Unexpected(std::string_view expected) const {
    return Error(cur_.pos, absl::StrCat("expected ", AV(expected), ", found ", Describe(cur_)));
  }

  // Reads a quoted body starting at text_[pos_] == '\''. Only \' and \\ are escapes (grammar).
  absl::Status ReadQuoted(std::string* out) {
    const size_t open = pos_;
    ++pos_;
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == '\'') {
        ++pos_;
        return absl::OkStatus();
      }
      if (c == '\\') {
        if (pos_ + 1 >= text_.size()) break;
        char n = text_[pos_ + 1];
        if (n != '\'' && n != '\\') {
          return Error(pos_, "invalid escape in string (only \\' and \\\\ are allowed)");
        }
        out->push_back(n);
        pos_ += 2;
        continue;
      }
      out->push_back(c);
      ++pos_;
    }
    return Error(open, "unterminated string");
  }

  absl::Status Advance() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
    cur_ = Token();
    cur_.pos = pos_;
    if (pos_ >= text_.size()) return absl::OkStatus();
    const char c = text_[pos_];
    const char n = pos_ + 1 < text_.size() ? text_[pos_ + 1] : '\0';
    auto single = [&](Tok k) {
      cur_.kind = k;
      cur_.text = std::string(1, c);
      ++pos_;
      return absl::OkStatus();
    };
    switch (c) {
      case '[':
        return single(Tok::kLBracket);
      case ']':
        return single(Tok::kRBracket);
      case '(':
        return single(Tok::kLParen);
      case ')':
        return single(Tok::kRParen);
      case ',':
        return single(Tok::kComma);
      case ':':
        return single(Tok::kColon);
      case '.':
        return single(Tok::kDot);
      case '*':
        return single(Tok::kStar);
      case '\'':
        cur_.kind = Tok::kString;
        return ReadQuoted(&cur_.text);
      default:
        break;
    }
    if (c == '=' || c == '!' || c == '<' || c == '>') {
      cur_.kind = Tok::kOp;
      if (c == '=' && n == '=') {
        cur_.text = "=";
        pos_ += 2;
      } else if (c == '!' && n == '=') {
        cur_.text = "!=";
        pos_ += 2;
      } else if (c == '<' && n == '>') {
        cur_.text = "!=";
        pos_ += 2;
      } else if ((c == '<' || c == '>') && n == '=') {
        cur_.text = std::string{c, '='};
        pos_ += 2;
      } else if (c == '!') {
        return Error(pos_, "expected '!='");
      } else {
        cur_.text = std::string(1, c);
        ++pos_;
      }
      return absl::OkStatus();
    }
    if ((c == 'h' || c == 'b' || c == 't') && n == '\'') {
      ++pos_;
      std::string body;
      KINSHIP_RETURN_IF_ERROR(ReadQuoted(&body));
      for (char b : body) {
        bool ok = c == 'h'   ? std::isxdigit(static_cast<unsigned char>(b)) != 0
                  : c == 'b' ? std::isalnum(static_cast<unsigned char>(b)) || b == '+' ||
                                   b == '/' || b == '='
                             : true;
        if (!ok) return Error(cur_.pos, "invalid character in literal");
      }
      if (c == 'h' && body.size() % 2 != 0) {
        return Error(cur_.pos, "hex literal needs an even number of digits");
      }
      if (c == 't' && !ValidTimestamp(body)) {
        return Error(cur_.pos, "timestamp literal is not YYYY-MM-DDTHH:MM:SS[.s]Z");
      }
      cur_.kind = c == 'h' ? Tok::kHex : c == 'b' ? Tok::kBinary : Tok::kTimestamp;
      cur_.text = std::move(body);
      return absl::OkStatus();
    }
    if (IsDigit(c) || ((c == '-' || c == '+') && IsDigit(n))) {
      size_t start = pos_;
      ++pos_;
      while (pos_ < text_.size() && IsDigit(text_[pos_])) ++pos_;
      cur_.kind = Tok::kInt;
      if (pos_ + 1 < text_.size() && text_[pos_] == '.' && IsDigit(text_[pos_ + 1])) {
        ++pos_;
        while (pos_ < text_.size() && IsDigit(text_[pos_])) ++pos_;
        cur_.kind = Tok::kFloat;
      }
      cur_.text = std::string(text_.substr(start, pos_ - start));
      return absl::OkStatus();
    }
    if (IsIdentStart(c)) {
      size_t start = pos_;
      while (pos_ < text_.size() && IsIdentChar(text_[pos_])) ++pos_;
      cur_.text = std::string(text_.substr(start, pos_ - start));
      cur_.kind = (cur_.text == "true" || cur_.text == "false") ? Tok::kBool : Tok::kIdent;
      return absl::OkStatus();
    }
    return Error(pos_, absl::StrCat("unexpected character '", AV(text_.substr(pos_, 1)), "'"));
  }

  bool AtKeyword(std::string_view k) const { return cur_.kind == Tok::kIdent && cur_.text == k; }

  absl::Status Expect(Tok kind, std::string_view what) {
    if (cur_.kind != kind) return Unexpected(what);
    return Advance();
  }

  absl::Status Enter(size_t pos) {
    if (++depth_ > limits::kMaxStixPatternDepth) {
      return absl::ResourceExhaustedError(absl::StrCat("char ", pos,
                                                       ": nesting deeper than "
                                                       "kMaxStixPatternDepth (",
                                                       limits::kMaxStixPatternDepth, ")"));
    }
    return absl::OkStatus();
  }

  // Folds `first` and the operands that follow `keyword` into one n-ary node.
  template <typename Node, typename Kind, typename Next>
  absl::Status Binary(Node* out, std::string_view keyword, Kind kind, Next next) {
    Node first;
    KINSHIP_RETURN_IF_ERROR(next(&first));
    if (!AtKeyword(keyword)) {
      *out = std::move(first);
      return absl::OkStatus();
    }
    Node node;
    node.kind = kind;
    node.children.push_back(std::move(first));
    while (AtKeyword(keyword)) {
      KINSHIP_RETURN_IF_ERROR(Advance());
      Node operand;
      KINSHIP_RETURN_IF_ERROR(next(&operand));
      node.children.push_back(std::move(operand));
    }
    *out = std::move(node);
    return absl::OkStatus();
  }

  absl::Status ParseFollowedBy(ObservationExpr* out) {
    return Binary(out, "FOLLOWEDBY", ObservationExpr::Kind::kFollowedBy,
                  [this](ObservationExpr* o) { return ParseObsOr(o); });
  }
  absl::Status ParseObsOr(ObservationExpr* out) {
    return Binary(out, "OR", ObservationExpr::Kind::kOr,
                  [this](ObservationExpr* o) { return ParseObsAnd(o); });
  }
  absl::Status ParseObsAnd(ObservationExpr* out) {
    return Binary(out, "AND", ObservationExpr::Kind::kAnd,
                  [this](ObservationExpr* o) { return ParseObsQualified(o); });
  }

  absl::Status ParseObsQualified(ObservationExpr* out) {
    KINSHIP_RETURN_IF_ERROR(ParseObsPrimary(out));
    for (;;) {
      Qualifier q;
      if (AtKeyword("WITHIN")) {
        q.kind = Qualifier::Kind::kWithin;
        KINSHIP_RETURN_IF_ERROR(Advance());
        if ((cur_.kind != Tok::kInt && cur_.kind != Tok::kFloat) || cur_.text[0] == '-') {
          return Unexpected("a positive number of seconds");
        }
        q.a = cur_.text;
        KINSHIP_RETURN_IF_ERROR(Advance());
        if (!AtKeyword("SECONDS")) return Unexpected("SECONDS");
        KINSHIP_RETURN_IF_ERROR(Advance());
      } else if (AtKeyword("REPEATS")) {
        q.kind = Qualifier::Kind::kRepeats;
        KINSHIP_RETURN_IF_ERROR(Advance());
        if (cur_.kind != Tok::kInt || cur_.text[0] == '-') return Unexpected("a positive integer");
        q.a = cur_.text;
        KINSHIP_RETURN_IF_ERROR(Advance());
        if (!AtKeyword("TIMES")) return Unexpected("TIMES");
        KINSHIP_RETURN_IF_ERROR(Advance());
      } else if (AtKeyword("START")) {
        q.kind = Qualifier::Kind::kStartStop;
        KINSHIP_RETURN_IF_ERROR(Advance());
        if (cur_.kind != Tok::kTimestamp) return Unexpected("a timestamp literal t'...'");
        q.a = cur_.text;
        KINSHIP_RETURN_IF_ERROR(Advance());
        if (!AtKeyword("STOP")) return Unexpected("STOP");
        KINSHIP_RETURN_IF_ERROR(Advance());
        if (cur_.kind != Tok::kTimestamp) return Unexpected("a timestamp literal t'...'");
        q.b = cur_.text;
        KINSHIP_RETURN_IF_ERROR(Advance());
      } else {
        return absl::OkStatus();
      }
      out->qualifiers.push_back(std::move(q));
    }
  }

  absl::Status ParseObsPrimary(ObservationExpr* out) {
    const size_t pos = cur_.pos;
    if (cur_.kind == Tok::kLBracket) {
      KINSHIP_RETURN_IF_ERROR(Enter(pos));
      KINSHIP_RETURN_IF_ERROR(Advance());
      out->kind = ObservationExpr::Kind::kObservation;
      KINSHIP_RETURN_IF_ERROR(ParseCompOr(&out->comparison));
      KINSHIP_RETURN_IF_ERROR(Expect(Tok::kRBracket, "']' or AND/OR"));
      --depth_;
      return absl::OkStatus();
    }
    if (cur_.kind == Tok::kLParen) {
      KINSHIP_RETURN_IF_ERROR(Enter(pos));
      KINSHIP_RETURN_IF_ERROR(Advance());
      KINSHIP_RETURN_IF_ERROR(ParseFollowedBy(out));
      KINSHIP_RETURN_IF_ERROR(Expect(Tok::kRParen, "')'"));
      --depth_;
      return absl::OkStatus();
    }
    return Unexpected("'[' or '('");
  }

  absl::Status ParseCompOr(ComparisonExpr* out) {
    return Binary(out, "OR", ComparisonExpr::Kind::kOr,
                  [this](ComparisonExpr* o) { return ParseCompAnd(o); });
  }
  absl::Status ParseCompAnd(ComparisonExpr* out) {
    return Binary(out, "AND", ComparisonExpr::Kind::kAnd,
                  [this](ComparisonExpr* o) { return ParsePropTest(o); });
  }

  absl::Status ParsePropTest(ComparisonExpr* out) {
    if (cur_.kind == Tok::kLParen) {
      KINSHIP_RETURN_IF_ERROR(Enter(cur_.pos));
      KINSHIP_RETURN_IF_ERROR(Advance());
      KINSHIP_RETURN_IF_ERROR(ParseCompOr(out));
      KINSHIP_RETURN_IF_ERROR(Expect(Tok::kRParen, "')' or AND/OR"));
      --depth_;
      return absl::OkStatus();
    }
    out->kind = ComparisonExpr::Kind::kComparison;
    Comparison& c = out->comparison;
    c.position = cur_.pos;
    if (AtKeyword("EXISTS")) {
      KINSHIP_RETURN_IF_ERROR(Advance());
      c.position = cur_.pos;
      c.op = "EXISTS";
      return ParseObjectPath(&c.path);
    }
    KINSHIP_RETURN_IF_ERROR(ParseObjectPath(&c.path));
    if (AtKeyword("NOT")) {
      c.negated = true;
      KINSHIP_RETURN_IF_ERROR(Advance());
    }
    if (cur_.kind == Tok::kOp) {
      c.op = cur_.text;
      KINSHIP_RETURN_IF_ERROR(Advance());
      const bool equality = c.op == "=" || c.op == "!=";
      Literal lit;
      KINSHIP_RETURN_IF_ERROR(ParseLiteral(&lit, /*allow_bool=*/equality));
      c.values.push_back(std::move(lit));
      return absl::OkStatus();
    }
    if (AtKeyword("IN")) {
      c.op = "IN";
      KINSHIP_RETURN_IF_ERROR(Advance());
      KINSHIP_RETURN_IF_ERROR(Expect(Tok::kLParen, "'(' starting the IN set"));
      if (cur_.kind == Tok::kRParen) return Advance();
      for (;;) {
        Literal lit;
        KINSHIP_RETURN_IF_ERROR(ParseLiteral(&lit, /*allow_bool=*/true));
        c.values.push_back(std::move(lit));
        if (cur_.kind == Tok::kComma) {
          KINSHIP_RETURN_IF_ERROR(Advance());
          continue;
        }
        return Expect(Tok::kRParen, "',' or ')' in the IN set");
      }
    }
    for (std::string_view k : {"LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET"}) {
      if (!AtKeyword(k)) continue;
      c.op = std::string(k);
      KINSHIP_RETURN_IF_ERROR(Advance());
      if (cur_.kind != Tok::kString) return Unexpected(absl::StrCat("a string after ", AV(k)));
      c.values.push_back(Literal{Literal::Kind::kString, cur_.text});
      return Advance();
    }
    return Unexpected("a comparison operator");
  }

  absl::Status ParseLiteral(Literal* lit, bool allow_bool) {
    switch (cur_.kind) {
      case Tok::kString:
        lit->kind = Literal::Kind::kString;
        break;
      case Tok::kInt:
        lit->kind = Literal::Kind::kInt;
        break;
      case Tok::kFloat:
        lit->kind = Literal::Kind::kFloat;
        break;
      case Tok::kHex:
        lit->kind = Literal::Kind::kHex;
        break;
      case Tok::kBinary:
        lit->kind = Literal::Kind::kBinary;
        break;
      case Tok::kTimestamp:
        lit->kind = Literal::Kind::kTimestamp;
        break;
      case Tok::kBool:
        if (!allow_bool) return Unexpected("an orderable literal");
        lit->kind = Literal::Kind::kBool;
        break;
      default:
        return Unexpected("a literal");
    }
    lit->text = cur_.text;
    return Advance();
  }

  absl::Status ParseObjectPath(ObjectPath* path) {
    if (cur_.kind != Tok::kIdent || IsKeyword(cur_.text)) return Unexpected("an object type");
    path->object_type = cur_.text;
    KINSHIP_RETURN_IF_ERROR(Advance());
    KINSHIP_RETURN_IF_ERROR(Expect(Tok::kColon, "':' after the object type"));
    if ((cur_.kind != Tok::kIdent || IsKeyword(cur_.text)) && cur_.kind != Tok::kString) {
      return Unexpected("a property name");
    }
    path->components.push_back(cur_.text);
    KINSHIP_RETURN_IF_ERROR(Advance());
    for (;;) {
      if (cur_.kind == Tok::kDot) {
        KINSHIP_RETURN_IF_ERROR(Advance());
        if ((cur_.kind != Tok::kIdent || IsKeyword(cur_.text)) && cur_.kind != Tok::kString) {
          return Unexpected("a property name after '.'");
        }
        path->components.push_back(cur_.text);
        KINSHIP_RETURN_IF_ERROR(Advance());
      } else if (cur_.kind == Tok::kLBracket) {
        KINSHIP_RETURN_IF_ERROR(Advance());
        if (cur_.kind != Tok::kInt && cur_.kind != Tok::kStar) {
          return Unexpected("a list index or '*'");
        }
        path->components.push_back(absl::StrCat("[", cur_.text, "]"));
        KINSHIP_RETURN_IF_ERROR(Advance());
        KINSHIP_RETURN_IF_ERROR(Expect(Tok::kRBracket, "']' closing the list index"));
      } else {
        return absl::OkStatus();
      }
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
  size_t depth_ = 0;
  Token cur_;
};

void Collect(const ComparisonExpr& e, std::vector<const Comparison*>* out) {
  if (e.kind == ComparisonExpr::Kind::kComparison) {
    out->push_back(&e.comparison);
    return;
  }
  for (const ComparisonExpr& c : e.children) Collect(c, out);
}

void Collect(const ObservationExpr& e, std::vector<const Comparison*>* out) {
  if (e.kind == ObservationExpr::Kind::kObservation) {
    Collect(e.comparison, out);
    return;
  }
  for (const ObservationExpr& c : e.children) Collect(c, out);
}

}  // namespace

std::string ObjectPath::ToString() const {
  std::string s = absl::StrCat(object_type, ":");
  for (size_t i = 0; i < components.size(); ++i) {
    if (i > 0 && (components[i].empty() || components[i].front() != '[')) s += '.';
    s += components[i];
  }
  return s;
}

std::vector<const Comparison*> Pattern::Comparisons() const {
  std::vector<const Comparison*> out;
  Collect(root, &out);
  return out;
}

absl::StatusOr<Pattern> ParsePattern(std::string_view text) { return Parser(text).Parse(); }

}  // namespace kinship::ingest::stix
