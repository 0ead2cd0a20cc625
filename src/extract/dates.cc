// A report's date: from HTML metadata (html_text.cc) or, failing that, the first date written in
// the report's opening lines. Hand-written over a token walk rather than RE2 (which extract.cc
// uses): the forms are few and fixed (ISO, "20 November 2018", "November 20, 2018",
// "20.11.2018"), and each match still needs the month table and a calendar check that a pattern
// cannot express.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "extract/extract_internal.h"

namespace kinship::extract::internal {
namespace {

constexpr int kMinYear = 1990, kMaxYear = 2099;

bool Digit(char c) { return c >= '0' && c <= '9'; }
bool Alpha(char c) { return absl::ascii_isalpha(static_cast<unsigned char>(c)); }

int DaysIn(int year, int month) {
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

std::optional<std::string> Iso(int year, int month, int day) {
  if (year < kMinYear || year > kMaxYear || month < 1 || month > 12 || day < 1 ||
      day > DaysIn(year, month)) {
    return std::nullopt;
  }
  return absl::StrFormat("%04d-%02d-%02d", year, month, day);
}

// 1-12 for an English month name or its abbreviation ("Sep", "Sept", "sept."), else 0.
int Month(std::string_view word) {
  static constexpr std::array<std::string_view, 12> kNames = {
      "january", "february", "march",     "april",   "may",      "june",
      "july",    "august",   "september", "october", "november", "december"};
  const std::string w = absl::AsciiStrToLower(std::string(word));
  for (int m = 0; m < 12; ++m) {
    if (w == kNames[m] || (w.size() >= 3 && w.size() <= 4 && kNames[m].starts_with(w))) {
      return m + 1;
    }
  }
  return 0;
}

// A word of the line: a run of letters or of digits, with where it starts and ends.
struct Token {
  std::string_view text;
  size_t begin, end;
  bool number;
};

std::vector<Token> Tokens(std::string_view line) {
  std::vector<Token> out;
  for (size_t i = 0; i < line.size();) {
    const bool digit = Digit(line[i]);
    if (!digit && !Alpha(line[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < line.size() && (digit ? Digit(line[j]) : Alpha(line[j]))) ++j;
    out.push_back({line.substr(i, j - i), i, j, digit});
    i = j;
  }
  return out;
}

int Number(std::string_view digits) {
  int v = 0;
  for (char c : digits) v = v * 10 + (c - '0');
  return v;
}

// Whether only spaces, and at most one of `punct`, lie between two tokens.
bool Near(std::string_view line, const Token& a, const Token& b, std::string_view punct) {
  int seen = 0;
  for (size_t i = a.end; i < b.begin; ++i) {
    if (line[i] == ' ') continue;
    if (punct.find(line[i]) == std::string_view::npos || ++seen > 1) return false;
  }
  return b.begin > a.end;
}

bool Ordinal(std::string_view w) { return w == "st" || w == "nd" || w == "rd" || w == "th"; }

}  // namespace

std::optional<std::string> FindDate(std::string_view line) {
  const std::vector<Token> t = Tokens(line);
  for (size_t i = 0; i < t.size(); ++i) {
    // ISO 8601 / RFC 3339: 2018-11-20, 2018-11-20T10:00:00Z, 2018/11/20.
    if (t[i].number && t[i].text.size() == 4 && i + 2 < t.size() && t[i + 1].number &&
        t[i + 2].number && t[i + 1].text.size() == 2 && t[i + 2].text.size() == 2) {
      const char sep = t[i].end < line.size() ? line[t[i].end] : 0;
      if ((sep == '-' || sep == '/') && t[i + 1].begin == t[i].end + 1 &&
          t[i + 2].begin == t[i + 1].end + 1 && line[t[i + 1].end] == sep) {
        if (auto d = Iso(Number(t[i].text), Number(t[i + 1].text), Number(t[i + 2].text))) {
          return d;
        }
      }
    }
    // 20.11.2018 (day first, as written with dots in Europe), but not inside a longer dotted
    // run (a version, an address).
    if (t[i].number && t[i].text.size() <= 2 && i + 2 < t.size() && t[i + 1].number &&
        t[i + 1].text.size() <= 2 && t[i + 2].number && t[i + 2].text.size() == 4 &&
        t[i + 1].begin == t[i].end + 1 && t[i + 2].begin == t[i + 1].end + 1 &&
        line[t[i].end] == '.' && line[t[i + 1].end] == '.' &&
        (t[i].begin < 2 || line[t[i].begin - 1] != '.' || !Digit(line[t[i].begin - 2])) &&
        (t[i + 2].end + 1 >= line.size() || line[t[i + 2].end] != '.' ||
         !Digit(line[t[i + 2].end + 1]))) {
      if (auto d = Iso(Number(t[i + 2].text), Number(t[i + 1].text), Number(t[i].text))) return d;
    }
    // 20 November 2018, 20th Nov. 2018.
    if (t[i].number && t[i].text.size() <= 2) {
      size_t m = i + 1;
      if (m < t.size() && Ordinal(t[m].text) && t[m].begin == t[i].end) ++m;
      if (m + 1 < t.size() && !t[m].number && Month(t[m].text) != 0 && t[m + 1].number &&
          t[m + 1].text.size() == 4 && Near(line, t[m - 1], t[m], "") &&
          Near(line, t[m], t[m + 1], ".,")) {
        if (auto d = Iso(Number(t[m + 1].text), Month(t[m].text), Number(t[i].text))) return d;
      }
    }
    // November 20, 2018; Nov. 20th 2018.
    if (!t[i].number && Month(t[i].text) != 0 && i + 2 < t.size() && t[i + 1].number &&
        t[i + 1].text.size() <= 2 && Near(line, t[i], t[i + 1], ".")) {
      size_t y = i + 2;
      if (Ordinal(t[y].text) && t[y].begin == t[i + 1].end) ++y;
      if (y < t.size() && t[y].number && t[y].text.size() == 4 && Near(line, t[y - 1], t[y], ",")) {
        if (auto d = Iso(Number(t[y].text), Month(t[i].text), Number(t[i + 1].text))) return d;
      }
    }
  }
  return std::nullopt;
}

std::string DateInOpening(std::string_view text) {
  constexpr int kLines = 12;  // non-empty lines read: a title page, a header block
  int lines = 0;
  for (size_t pos = 0; pos < text.size() && lines < kLines;) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (absl::StripAsciiWhitespace(AV(line)).empty()) continue;
    ++lines;
    if (auto d = FindDate(line)) return *d;
  }
  return "";
}

}  // namespace kinship::extract::internal
