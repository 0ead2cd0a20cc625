// gumbo adapter (Google's HTML5 parser, Debian's libgumbo): visible text of a report page as
// Markdown-like text, keeping headings, code, tables and link targets, with source lines.
#include <gumbo.h>

#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "extract/document_internal.h"
#include "extract/extract_internal.h"

namespace kinship::extract::internal {
namespace {

// Deeper nesting than this is hostile or broken; its content is dropped rather than recursed
// into (the walk is recursive).
constexpr int kMaxHtmlDepth = 256;

std::string_view Attr(const GumboElement& el, const char* name) {
  const GumboAttribute* a = gumbo_get_attribute(&el.attributes, name);
  return a == nullptr ? std::string_view() : std::string_view(a->value);
}

std::string HostOf(std::string_view url) {
  size_t p = url.find("://");
  if (p == std::string_view::npos) return "";
  url.remove_prefix(p + 3);
  size_t end = url.find_first_of("/:?#");
  return absl::AsciiStrToLower(AV(url.substr(0, end)));
}

class Renderer {
 public:
  explicit Renderer(Document* doc) : doc_(doc) {}

  void Walk(const GumboNode* node, int depth) {
    if (depth > kMaxHtmlDepth) return;
    switch (node->type) {
      case GUMBO_NODE_TEXT:
      case GUMBO_NODE_CDATA:
      case GUMBO_NODE_WHITESPACE:
        Text(node->v.text);
        return;
      case GUMBO_NODE_ELEMENT:
      case GUMBO_NODE_TEMPLATE:
        Element(node, depth);
        return;
      default:
        return;
    }
  }

  std::string h1;  // first <h1> text, the title fallback
  // The page's date by how surely it is the publication's: 0 none, 1 a <time datetime>, 2 a
  // generic date meta (date, DC.date, ...), 3 the article's published time.
  int date_rank = 0;
  std::string date;

 private:
  void Text(const GumboText& t) {
    std::string_view s(t.text);
    if (s.empty()) return;
    doc_->anchors.push_back({doc_->text.size(), static_cast<int>(t.start_pos.line)});
    if (pre_ > 0) {
      doc_->text.append(s);
      return;
    }
    for (char c : s) {
      if (absl::ascii_isspace(static_cast<unsigned char>(c))) {
        if (!doc_->text.empty() && doc_->text.back() != ' ' && doc_->text.back() != '\n') {
          doc_->text.push_back(' ');
        }
      } else {
        doc_->text.push_back(c);
      }
    }
  }

  void Newline() {
    while (!doc_->text.empty() && doc_->text.back() == ' ') doc_->text.pop_back();
    if (!doc_->text.empty() && doc_->text.back() != '\n') doc_->text.push_back('\n');
  }

  void Children(const GumboElement& el, int depth) {
    for (unsigned i = 0; i < el.children.length; ++i) {
      Walk(static_cast<const GumboNode*>(el.children.data[i]), depth + 1);
    }
  }

  // Keeps `value`'s date when it ranks above the one kept.
  void Dated(std::string_view value, int rank) {
    if (rank <= date_rank) return;
    if (auto d = FindDate(value)) {
      date = *d;
      date_rank = rank;
    }
  }

  // The <time datetime> elements under `el`, whose text is not rendered.
  void TimesIn(const GumboElement& el, int depth) {
    if (depth > kMaxHtmlDepth) return;
    for (unsigned i = 0; i < el.children.length; ++i) {
      const auto* child = static_cast<const GumboNode*>(el.children.data[i]);
      if (child->type != GUMBO_NODE_ELEMENT) continue;
      if (child->v.element.tag == GUMBO_TAG_TIME) Dated(Attr(child->v.element, "datetime"), 1);
      TimesIn(child->v.element, depth + 1);
    }
  }

  // "datePublished" of a schema.org JSON-LD block: the first date after the key.
  void JsonLdDate(const GumboElement& el) {
    for (unsigned i = 0; i < el.children.length; ++i) {
      const auto* child = static_cast<const GumboNode*>(el.children.data[i]);
      if (child->type != GUMBO_NODE_TEXT && child->type != GUMBO_NODE_CDATA) continue;
      const std::string_view json(child->v.text.text);
      const size_t key = json.find("\"datePublished\"");
      if (key != std::string_view::npos) Dated(json.substr(key + 15, 48), 3);
    }
  }

  void Element(const GumboNode* node, int depth) {
    const GumboElement& el = node->v.element;
    doc_->anchors.push_back({doc_->text.size(), static_cast<int>(el.start_pos.line)});
    switch (el.tag) {
      case GUMBO_TAG_SCRIPT:
        if (absl::EqualsIgnoreCase(AV(Attr(el, "type")), "application/ld+json")) JsonLdDate(el);
        return;
      case GUMBO_TAG_HEADER:
        TimesIn(el, depth);  // an article's header holds its date; its text is left out
        return;
      case GUMBO_TAG_TIME:
        Dated(Attr(el, "datetime"), 1);
        Children(el, depth);
        return;
      case GUMBO_TAG_STYLE:
      case GUMBO_TAG_NOSCRIPT:
      case GUMBO_TAG_TEMPLATE:
      case GUMBO_TAG_SVG:
      case GUMBO_TAG_NAV:
      case GUMBO_TAG_FOOTER:
      case GUMBO_TAG_ASIDE:
      case GUMBO_TAG_FORM:
      case GUMBO_TAG_BUTTON:
      case GUMBO_TAG_IFRAME:
      case GUMBO_TAG_OBJECT:
        return;
      case GUMBO_TAG_TITLE: {
        size_t start = doc_->text.size();
        Children(el, depth);
        if (doc_->title.empty()) {
          doc_->title = std::string(absl::StripAsciiWhitespace(doc_->text.substr(start)));
        }
        doc_->text.resize(start);
        while (!doc_->anchors.empty() && doc_->anchors.back().text_offset > start) {
          doc_->anchors.pop_back();
        }
        return;
      }
      case GUMBO_TAG_META: {
        std::string_view prop = Attr(el, "property");
        if (prop.empty()) prop = Attr(el, "name");
        if (prop == "og:site_name") doc_->site_name = std::string(Attr(el, "content"));
        if (prop.empty()) prop = Attr(el, "itemprop");
        if (absl::EqualsIgnoreCase(AV(prop), "article:published_time") ||
            absl::EqualsIgnoreCase(AV(prop), "datePublished")) {
          Dated(Attr(el, "content"), 3);
        }
        for (const char* generic : {"date", "dc.date", "dc.date.issued", "dcterms.date",
                                    "dcterms.created", "citation_publication_date", "pubdate"}) {
          if (absl::EqualsIgnoreCase(AV(prop), generic)) Dated(Attr(el, "content"), 2);
        }
        if (prop == "og:url" && doc_->self_host.empty()) {
          doc_->self_host = HostOf(Attr(el, "content"));
        }
        return;
      }
      case GUMBO_TAG_LINK:
        if (absl::EqualsIgnoreCase(AV(Attr(el, "rel")), "canonical")) {
          doc_->self_host = HostOf(Attr(el, "href"));
        }
        return;
      case GUMBO_TAG_H1:
      case GUMBO_TAG_H2:
      case GUMBO_TAG_H3:
      case GUMBO_TAG_H4:
      case GUMBO_TAG_H5:
      case GUMBO_TAG_H6: {
        Newline();
        doc_->text.append("# ");
        size_t start = doc_->text.size();
        Children(el, depth);
        if (el.tag == GUMBO_TAG_H1 && h1.empty()) {
          h1 = std::string(absl::StripAsciiWhitespace(doc_->text.substr(start)));
        }
        Newline();
        return;
      }
      case GUMBO_TAG_PRE:
        Newline();
        doc_->text.append("```\n");
        ++pre_;
        Children(el, depth);
        --pre_;
        Newline();
        doc_->text.append("```\n");
        return;
      case GUMBO_TAG_CODE:
      case GUMBO_TAG_KBD:
      case GUMBO_TAG_SAMP:
      case GUMBO_TAG_TT:
        if (pre_ > 0) {
          Children(el, depth);
        } else {
          doc_->text.push_back('`');
          Children(el, depth);
          doc_->text.push_back('`');
        }
        return;
      case GUMBO_TAG_BR:
        if (pre_ > 0) {
          doc_->text.push_back('\n');
        } else {
          Newline();
        }
        return;
      case GUMBO_TAG_TR:
        Newline();
        doc_->text.append("| ");
        Children(el, depth);
        Newline();
        return;
      case GUMBO_TAG_TD:
      case GUMBO_TAG_TH:
        Children(el, depth);
        doc_->text.append(" | ");
        return;
      case GUMBO_TAG_LI:
        Newline();
        doc_->text.append("- ");
        Children(el, depth);
        Newline();
        return;
      case GUMBO_TAG_A: {
        size_t start = doc_->text.size();
        Children(el, depth);
        std::string_view href = Attr(el, "href");
        if (absl::StrContains(AV(href), "://") || absl::StartsWithIgnoreCase(AV(href), "mailto:")) {
          if (absl::StartsWithIgnoreCase(AV(href), "mailto:")) href.remove_prefix(7);
          std::string_view shown =
              SV(absl::StripAsciiWhitespace(AV(std::string_view(doc_->text).substr(start))));
          if (shown != href && href.find_first_of(" \t\r\n<>") == std::string_view::npos) {
            doc_->text.append(" <");
            doc_->text.append(href);
            doc_->text.append(">");
          }
        }
        return;
      }
      case GUMBO_TAG_P:
      case GUMBO_TAG_DIV:
      case GUMBO_TAG_SECTION:
      case GUMBO_TAG_ARTICLE:
      case GUMBO_TAG_MAIN:
      case GUMBO_TAG_BLOCKQUOTE:
      case GUMBO_TAG_UL:
      case GUMBO_TAG_OL:
      case GUMBO_TAG_DL:
      case GUMBO_TAG_DT:
      case GUMBO_TAG_DD:
      case GUMBO_TAG_TABLE:
      case GUMBO_TAG_THEAD:
      case GUMBO_TAG_TBODY:
      case GUMBO_TAG_FIGURE:
      case GUMBO_TAG_FIGCAPTION:
      case GUMBO_TAG_HR:
      case GUMBO_TAG_BODY:
        Newline();
        Children(el, depth);
        Newline();
        return;
      default:
        Children(el, depth);
        return;
    }
  }

  Document* doc_;
  int pre_ = 0;
};

}  // namespace

Document HtmlToDocument(std::string_view html) {
  Document doc;
  doc.kind = DocKind::kHtml;
  GumboOutput* out = gumbo_parse_with_options(&kGumboDefaultOptions, html.data(), html.size());
  Renderer r(&doc);
  r.Walk(out->root, 0);
  gumbo_destroy_output(&kGumboDefaultOptions, out);
  if (doc.title.empty()) doc.title = r.h1;
  doc.published = r.date;
  return doc;
}

}  // namespace kinship::extract::internal
