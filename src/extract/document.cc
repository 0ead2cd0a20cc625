// Report bytes -> Document: kind detection and dispatch to the HTML and PDF converters.
#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "extract/document_internal.h"
#include "extract/extract_internal.h"
#include "kinship/status.h"

namespace kinship::extract {

std::string_view DocKindName(DocKind kind) {
  switch (kind) {
    case DocKind::kText:
      return "text";
    case DocKind::kMarkdown:
      return "markdown";
    case DocKind::kHtml:
      return "html";
    case DocKind::kPdf:
      return "pdf";
  }
  return "text";
}

std::string_view ContextName(Context c) {
  switch (c) {
    case Context::kProse:
      return "prose";
    case Context::kKeyword:
      return "keyword";
    case Context::kInlineCode:
      return "inline-code";
    case Context::kCodeBlock:
      return "code-block";
    case Context::kTable:
      return "table";
    case Context::kIocSection:
      return "ioc-section";
  }
  return "prose";
}

DocKind DetectDocKind(std::string_view content, std::string_view file_name) {
  if (absl::StartsWith(AV(content), "%PDF-")) return DocKind::kPdf;
  std::string_view s = content;
  if (absl::StartsWith(AV(s), "\xEF\xBB\xBF")) s.remove_prefix(3);
  while (!s.empty() && absl::ascii_isspace(static_cast<unsigned char>(s.front()))) {
    s.remove_prefix(1);
  }
  std::string head = absl::AsciiStrToLower(AV(s.substr(0, 1024)));
  for (std::string_view tag : {"<!doctype html", "<html", "<head", "<body", "<meta", "<div", "<p>",
                               "<article", "<h1", "<table", "<!--", "<title"}) {
    if (absl::StartsWith(head, AV(tag))) return DocKind::kHtml;
  }
  if (absl::EndsWithIgnoreCase(AV(file_name), ".html") ||
      absl::EndsWithIgnoreCase(AV(file_name), ".htm")) {
    return DocKind::kHtml;
  }
  if (absl::EndsWithIgnoreCase(AV(file_name), ".md") ||
      absl::EndsWithIgnoreCase(AV(file_name), ".markdown")) {
    return DocKind::kMarkdown;
  }
  return DocKind::kText;
}

absl::StatusOr<Document> ToText(std::string_view content, std::string_view file_name) {
  Document doc;
  switch (DetectDocKind(content, file_name)) {
    case DocKind::kPdf: {
      KINSHIP_ASSIGN_OR_RETURN(doc.text, internal::PdfToText(content, file_name));
      doc.kind = DocKind::kPdf;
      break;
    }
    case DocKind::kHtml:
      doc = internal::HtmlToDocument(content);
      break;
    case DocKind::kMarkdown:
      doc.kind = DocKind::kMarkdown;
      doc.text = std::string(content);
      break;
    case DocKind::kText:
      doc.kind = DocKind::kText;
      doc.text = std::string(content);
      break;
  }
  if (doc.title.empty()) doc.title = internal::GuessTitle(doc.text);
  if (doc.published.empty()) doc.published = internal::DateInOpening(doc.text);
  for (char& c : doc.title) {
    if (c == '\t' || c == '\n' || c == '\r' || c == '\f') c = ' ';
  }
  return doc;
}

}  // namespace kinship::extract
