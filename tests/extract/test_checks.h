// Test doubles for the normalize stage: a small refanger and a fixed public-suffix list, so the
// extractor's scanner can be tested on its own (the real ones are checked in report_test.cc).
#ifndef KINSHIP_TESTS_EXTRACT_TEST_CHECKS_H_
#define KINSHIP_TESTS_EXTRACT_TEST_CHECKS_H_

#include <optional>
#include <string>
#include <string_view>

#include "extract/classify.h"

namespace kinship::extract::testing {

inline std::string FakeRefang(std::string_view in) {
  std::string s(in);
  auto replace_all = [&s](std::string_view from, std::string_view to, bool icase) {
    for (size_t i = 0; i + from.size() <= s.size();) {
      bool eq = true;
      for (size_t k = 0; k < from.size() && eq; ++k) {
        char a = s[i + k], b = from[k];
        if (icase) {
          a = static_cast<char>(std::tolower(static_cast<unsigned char>(a)));
          b = static_cast<char>(std::tolower(static_cast<unsigned char>(b)));
        }
        eq = a == b;
      }
      if (eq) {
        s.replace(i, from.size(), to);
        i += to.size();
      } else {
        ++i;
      }
    }
  };
  for (auto [from, to] : {std::pair<std::string_view, std::string_view>{"[://]", "://"},
                          {"[:]", ":"},
                          {"[.]", "."},
                          {"(.)", "."},
                          {"{.}", "."},
                          {"[dot]", "."},
                          {"(dot)", "."},
                          {"[@]", "@"},
                          {"[at]", "@"},
                          {"(at)", "@"},
                          {"hxxps", "https"},
                          {"hxxp", "http"},
                          {"fxp", "ftp"}}) {
    replace_all(from, to, true);
  }
  return s;
}

inline std::optional<std::string> FakeRegisteredDomain(std::string_view d) {
  static constexpr std::string_view kSuffixes[] = {
      "com", "net",   "org", "info", "ru",  "de",   "top", "xyz", "shop", "cc",     "io",
      "uk",  "co.uk", "zip", "mov",  "app", "name", "sh",  "py",  "md",   "ca",     "cn",
      "biz", "in",    "jp",  "kr",   "fr",  "it",   "nl",  "pl",  "ua",   "online", "site"};
  std::string_view best;
  for (std::string_view suf : kSuffixes) {
    if (d.size() > suf.size() && d.substr(d.size() - suf.size()) == suf &&
        d[d.size() - suf.size() - 1] == '.' && suf.size() > best.size()) {
      best = suf;
    }
  }
  if (best.empty()) return std::nullopt;
  std::string_view rest = d.substr(0, d.size() - best.size() - 1);
  size_t dot = rest.rfind('.');
  return std::string(dot == std::string_view::npos ? d : d.substr(dot + 1));
}

inline const internal::Checks& FakeChecks() {
  static const internal::Checks checks{&FakeRefang, &FakeRegisteredDomain};
  return checks;
}

}  // namespace kinship::extract::testing

#endif  // KINSHIP_TESTS_EXTRACT_TEST_CHECKS_H_
