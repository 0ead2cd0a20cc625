// The public Extractor: the engine with the normalize stage's refanging and Public Suffix List.
#include "extract/extract_internal.h"

namespace kinship::extract {

struct Extractor::Impl {
  const NameCatalog* catalog;
  ExtractOptions options;
};

Extractor::Extractor(const NameCatalog* catalog, ExtractOptions options)
    : impl_(std::make_unique<Impl>(Impl{catalog, options})) {}
Extractor::~Extractor() = default;
Extractor::Extractor(Extractor&&) noexcept = default;
Extractor& Extractor::operator=(Extractor&&) noexcept = default;

Result Extractor::Extract(const Document& doc) const {
  return internal::ExtractWith(doc, impl_->catalog, impl_->options, internal::NormalizeChecks());
}

absl::StatusOr<Result> ExtractFromBytes(std::string_view content, std::string_view file_name) {
  KINSHIP_ASSIGN_OR_RETURN(Document doc, ToText(content, file_name));
  return Extractor(nullptr).Extract(doc);
}

}  // namespace kinship::extract
