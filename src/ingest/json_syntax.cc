#include "ingest/json_syntax.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "kinship/limits.h"
#include "kinship/status.h"

namespace kinship::ingest::internal {
namespace {

class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}

  std::optional<JsonSyntaxError> Run() {
    if (s_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
    // After each value, the innermost open container decides what may follow.
    std::vector<char> open;
    SkipSpace();
    if (!Value(open)) return error_;
    while (true) {
      SkipSpace();
      if (open.empty()) {
        if (pos_ < s_.size()) return Error("unexpected text after the JSON value");
        return std::nullopt;
      }
      const char closer = open.back() == '{' ? '}' : ']';
      if (pos_ >= s_.size()) return Error("unexpected end of input");
      if (s_[pos_] == closer) {
        ++pos_;
        open.pop_back();
        continue;
      }
      if (s_[pos_] != ',') {
        return Error(closer == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
      }
      ++pos_;
      SkipSpace();
      if (open.back() == '{' && !Member()) return error_;
      if (!Value(open)) return error_;
    }
  }

 private:
  std::optional<JsonSyntaxError> Error(const char* message) {
    Fail(message);
    return error_;
  }

  // Records the error at pos_; returns false so that `return Fail(...)` ends a production.
  bool Fail(const char* message) {
    JsonSyntaxError e;
    for (size_t i = 0; i < pos_ && i < s_.size(); ++i) {
      if (s_[i] == '\n') {
        ++e.line;
        e.col = 1;
      } else {
        ++e.col;
      }
    }
    e.message = message;
    error_ = e;
    return false;
  }

  void SkipSpace() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }

  // `"key" :` of an object member, leaving pos_ at the value.
  bool Member() {
    if (pos_ >= s_.size()) return Fail("unexpected end of input");
    if (s_[pos_] != '"') return Fail("expected a string key");
    if (!String()) return false;
    SkipSpace();
    if (pos_ >= s_.size() || s_[pos_] != ':') return Fail("expected ':'");
    ++pos_;
    SkipSpace();
    return true;
  }

  // One value. A container is opened (pushed) and its first member or element read; the caller's
  // loop reads the rest.
  bool Value(std::vector<char>& open) {
    while (true) {
      if (pos_ >= s_.size()) return Fail("unexpected end of input");
      const char c = s_[pos_];
      if (c == '{' || c == '[') {
        ++pos_;
        SkipSpace();
        if (pos_ < s_.size() && s_[pos_] == (c == '{' ? '}' : ']')) {
          ++pos_;
          return true;
        }
        open.push_back(c);
        if (c == '{' && !Member()) return false;
        continue;  // the first member's value / first element
      }
      if (c == '"') return String();
      if (c == '-' || (c >= '0' && c <= '9')) return Number();
      for (std::string_view lit : {"true", "false", "null"}) {
        if (s_.substr(pos_, lit.size()) == lit) {
          pos_ += lit.size();
          return true;
        }
      }
      return Fail("expected a value");
    }
  }

  bool String() {
    ++pos_;  // opening quote
    while (pos_ < s_.size()) {
      const unsigned char c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) return Fail("control character in string");
      if (c == '\\') {
        ++pos_;
        if (pos_ >= s_.size()) break;
        const char e = s_[pos_];
        if (e == 'u') {
          for (int i = 1; i <= 4; ++i) {
            const char h = pos_ + i < s_.size() ? s_[pos_ + i] : '\0';
            if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F'))) {
              pos_ += i;
              return Fail("bad \\u escape");
            }
          }
          pos_ += 4;
        } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
          --pos_;  // point at the backslash
          return Fail("bad escape");
        }
      }
      ++pos_;
    }
    return Fail("unterminated string");
  }

  bool Digits() {
    const size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
    return pos_ > start;
  }

  bool Number() {
    if (s_[pos_] == '-') ++pos_;
    if (pos_ < s_.size() && s_[pos_] == '0') {
      ++pos_;
    } else if (!Digits()) {
      return Fail("bad number");
    }
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      if (!Digits()) return Fail("bad number");
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (!Digits()) return Fail("bad number");
    }
    return true;
  }

  std::string_view s_;
  size_t pos_ = 0;
  std::optional<JsonSyntaxError> error_;
};

}  // namespace

std::optional<JsonSyntaxError> FindJsonSyntaxError(std::string_view json) {
  return Scanner(json).Run();
}

absl::StatusOr<simdjson::dom::element> ParseJsonDocument(simdjson::dom::parser& parser,
                                                         std::string_view json,
                                                         std::string_view file) {
  if (json.size() > limits::kMaxInputFileBytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat(AV(file), ": input is ", json.size(), " bytes, over kMaxInputFileBytes"));
  }
  // simdjson needs a capacity of at least one padded block, even for an empty text.
  if (auto err = parser.allocate(std::max<size_t>(json.size(), 64), limits::kMaxJsonDepth); err) {
    return absl::ResourceExhaustedError(
        absl::StrCat(AV(file), ": out of memory for a JSON parser of ", json.size(),
                     " bytes: ", simdjson::error_message(err)));
  }
  simdjson::dom::element root;
  if (auto err = parser.parse(json.data(), json.size(), true).get(root); err) {
    if (err == simdjson::MEMALLOC) {
      // Not the file's fault: "not valid JSON" would send the analyst looking for a typo.
      return absl::ResourceExhaustedError(absl::StrCat(
          AV(file), ": out of memory while parsing its ", json.size(), " bytes of JSON"));
    }
    if (err == simdjson::DEPTH_ERROR) {
      return absl::ResourceExhaustedError(absl::StrCat(
          AV(file), ": JSON nested deeper than kMaxJsonDepth (", limits::kMaxJsonDepth, ")"));
    }
    if (auto where = FindJsonSyntaxError(json)) {
      return absl::InvalidArgumentError(absl::StrCat(AV(file), ":", where->line, ":", where->col,
                                                     ": not valid JSON: ", where->message));
    }
    return absl::InvalidArgumentError(
        absl::StrCat(AV(file), ": not valid JSON: ", simdjson::error_message(err)));
  }
  return root;
}

}  // namespace kinship::ingest::internal
