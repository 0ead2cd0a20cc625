// libFuzzer target for report extraction: plain text, Markdown and the HTML path (gumbo). The
// first byte picks the kind. Invariants: every finding has a value, a location and a snippet, and
// for text its raw form occurs in the input; every technique has an id, a location and a snippet;
// a report date (HTML metadata, or the opening lines' first date) is empty or "YYYY-MM-DD".
// PDF is not fuzzed here (it is a separate process).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "extract/document_internal.h"
#include "extract/extract_internal.h"
#include "kinship/extract.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int mode = data[0] % 3;
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  kinship::extract::Document doc;
  if (mode == 2) {
    doc = kinship::extract::internal::HtmlToDocument(body);
  } else {
    doc.kind = mode == 0 ? kinship::extract::DocKind::kText : kinship::extract::DocKind::kMarkdown;
    doc.text = std::string(body);
  }
  auto dated = [](const std::string& d) {
    if (d.empty()) return true;
    if (d.size() != 10 || d[4] != '-' || d[7] != '-') return false;
    for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
      if (d[i] < '0' || d[i] > '9') return false;
    }
    return true;
  };
  if (!dated(doc.published) || !dated(kinship::extract::internal::DateInOpening(doc.text))) {
    std::abort();
  }
  static const kinship::extract::Extractor extractor(nullptr);
  kinship::extract::Result r = extractor.Extract(doc);
  for (const kinship::extract::Finding& f : r.indicators) {
    if (f.value.empty() || f.location.empty() || f.raw.empty() || f.snippet.empty()) std::abort();
    if (doc.text.find(f.raw) == std::string::npos) std::abort();
  }
  for (const kinship::extract::NameMention& t : r.techniques) {
    if (t.id.empty() || t.location.empty() || t.snippet.empty()) std::abort();
  }
  return 0;
}
