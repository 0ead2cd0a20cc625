// Adapter over RE2: every regex warninglist entry in one RE2::Set, so a lookup is one DFA pass
// however many patterns there are.
#include "warninglist/regex.h"

#include <re2/re2.h>
#include <re2/set.h>

namespace kinship::warninglist_internal {

struct RegexSet::Impl {
  Impl() : set(Options(), RE2::UNANCHORED) {}
  static RE2::Options Options() {
    RE2::Options o;
    o.set_log_errors(false);
    o.set_max_mem(64 << 20);
    return o;
  }
  RE2::Set set;
  int count = 0;
  bool compiled = false;
};

RegexSet::RegexSet() : impl_(std::make_unique<Impl>()) {}
RegexSet::~RegexSet() = default;
RegexSet::RegexSet(RegexSet&&) noexcept = default;
RegexSet& RegexSet::operator=(RegexSet&&) noexcept = default;

int RegexSet::Add(std::string_view misp_pattern, std::string* error) {
  std::string_view body = misp_pattern;
  std::string flags;
  // MISP stores PHP (PCRE) patterns with delimiters: "/body/flags" or "#body#flags".
  if (body.size() >= 2 && (body[0] == '/' || body[0] == '#' || body[0] == '~')) {
    const size_t end = body.rfind(body[0]);
    if (end > 0) {
      for (char f : body.substr(end + 1)) {
        if (f == 'i' || f == 'm' || f == 's') flags.push_back(f);
      }
      body = body.substr(1, end - 1);
    }
  }
  std::string pattern = flags.empty() ? std::string(body) : "(?" + flags + ")" + std::string(body);
  std::string err;
  const int index = impl_->set.Add(re2::StringPiece(pattern.data(), pattern.size()), &err);
  if (index < 0 && error != nullptr) *error = err;
  if (index >= 0) ++impl_->count;
  return index;
}

bool RegexSet::Compile() {
  if (impl_->count == 0) return true;
  impl_->compiled = impl_->set.Compile();
  return impl_->compiled;
}

bool RegexSet::empty() const { return !impl_->compiled; }

void RegexSet::Match(std::string_view text, std::vector<int>* hits) const {
  hits->clear();
  if (!impl_->compiled) return;
  impl_->set.Match(re2::StringPiece(text.data(), text.size()), hits);
}

}  // namespace kinship::warninglist_internal
