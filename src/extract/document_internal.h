// Converters from report bytes to text, one per third-party tool (gumbo, pdftotext).
#ifndef KINSHIP_EXTRACT_DOCUMENT_INTERNAL_H_
#define KINSHIP_EXTRACT_DOCUMENT_INTERNAL_H_

#include <string>
#include <string_view>

#include "kinship/extract.h"

namespace kinship::extract::internal {

// HTML -> Markdown-like text (see extract.h Document). Never fails: gumbo recovers from any
// byte sequence the way browsers do.
Document HtmlToDocument(std::string_view html);

// PDF bytes -> text via the `pdftotext` program. Errors as extract::ToText.
absl::StatusOr<std::string> PdfToText(std::string_view pdf, std::string_view file_name);

}  // namespace kinship::extract::internal

#endif  // KINSHIP_EXTRACT_DOCUMENT_INTERNAL_H_
