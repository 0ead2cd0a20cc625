// Hyperscan adapter (Intel's multi-pattern regex engine, Debian's libhyperscan). Block mode, one
// per-thread scratch grown to fit every database a thread scans.
#include "extract/hs_patterns.h"

#include <hs/hs.h>

#include "absl/strings/str_cat.h"

namespace kinship::extract::internal {
namespace {

// Per-thread scratch space: hs_alloc_scratch only reallocates when a database needs more.
struct ThreadScratch {
  hs_scratch_t* scratch = nullptr;
  ~ThreadScratch() {
    if (scratch != nullptr) hs_free_scratch(scratch);
  }
};

hs_scratch_t* ScratchFor(const hs_database_t* db) {
  thread_local ThreadScratch ts;
  if (hs_alloc_scratch(db, &ts.scratch) != HS_SUCCESS) return nullptr;
  return ts.scratch;
}

struct Context {
  absl::FunctionRef<void(unsigned, size_t)>* fn;
};

int OnMatch(unsigned int id, unsigned long long /*from*/, unsigned long long to,
            unsigned int /*flags*/, void* ctx) {
  (*static_cast<Context*>(ctx)->fn)(id, static_cast<size_t>(to));
  return 0;
}

}  // namespace

struct PatternSet::Impl {
  hs_database_t* db = nullptr;
  ~Impl() {
    if (db != nullptr) hs_free_database(db);
  }
};

PatternSet::PatternSet() : impl_(std::make_unique<Impl>()) {}
PatternSet::~PatternSet() = default;
PatternSet::PatternSet(PatternSet&&) noexcept = default;
PatternSet& PatternSet::operator=(PatternSet&&) noexcept = default;

bool PatternSet::empty() const { return impl_ == nullptr || impl_->db == nullptr; }

absl::StatusOr<PatternSet> PatternSet::Compile(const std::vector<Pattern>& patterns) {
  PatternSet set;
  if (patterns.empty()) return set;
  std::vector<const char*> exprs;
  std::vector<unsigned> flags, ids;
  for (const Pattern& p : patterns) {
    exprs.push_back(p.expression.c_str());
    flags.push_back((p.caseless ? HS_FLAG_CASELESS : 0u));
    ids.push_back(p.id);
  }
  hs_compile_error_t* err = nullptr;
  if (hs_compile_multi(exprs.data(), flags.data(), ids.data(), static_cast<unsigned>(exprs.size()),
                       HS_MODE_BLOCK, nullptr, &set.impl_->db, &err) != HS_SUCCESS) {
    std::string msg = absl::StrCat(
        "hyperscan: pattern ",
        err != nullptr && err->expression >= 0 ? patterns[err->expression].expression : "?", ": ",
        err != nullptr ? err->message : "compile failed");
    hs_free_compile_error(err);
    return absl::InvalidArgumentError(msg);
  }
  return set;
}

absl::StatusOr<PatternSet> PatternSet::CompileLiterals(const std::vector<Pattern>& literals) {
  PatternSet set;
  if (literals.empty()) return set;
  std::vector<const char*> exprs;
  std::vector<size_t> lens;
  std::vector<unsigned> flags, ids;
  for (const Pattern& p : literals) {
    exprs.push_back(p.expression.data());
    lens.push_back(p.expression.size());
    flags.push_back(p.caseless ? HS_FLAG_CASELESS : 0u);
    ids.push_back(p.id);
  }
  hs_compile_error_t* err = nullptr;
  if (hs_compile_lit_multi(exprs.data(), flags.data(), ids.data(), lens.data(),
                           static_cast<unsigned>(exprs.size()), HS_MODE_BLOCK, nullptr,
                           &set.impl_->db, &err) != HS_SUCCESS) {
    std::string msg = absl::StrCat(
        "hyperscan: literal ",
        err != nullptr && err->expression >= 0 ? literals[err->expression].expression : "?", ": ",
        err != nullptr ? err->message : "compile failed");
    hs_free_compile_error(err);
    return absl::InvalidArgumentError(msg);
  }
  return set;
}

void PatternSet::Scan(std::string_view text,
                      absl::FunctionRef<void(unsigned id, size_t end)> on_match) const {
  if (empty() || text.empty()) return;
  hs_scratch_t* scratch = ScratchFor(impl_->db);
  if (scratch == nullptr) return;
  Context ctx{&on_match};
  // hs_scan takes an unsigned int length: scan huge inputs in overlapping-free chunks is not
  // needed because limits::kMaxInputFileBytes (1 GiB) fits.
  hs_scan(impl_->db, text.data(), static_cast<unsigned>(text.size()), 0, scratch, OnMatch, &ctx);
}

}  // namespace kinship::extract::internal
