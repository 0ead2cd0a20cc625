// The extraction engine: Hyperscan finds candidate positions in one pass, each candidate is grown
// to its token, refanged and classified exactly (classify.cc), then judged by its context: the
// line's block (code fence, table), the section (IOC / references), inline code, nearby words.
#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "extract/extract_internal.h"
#include "kinship/limits.h"
#include "kinship/status.h"
#include "re2/re2.h"

namespace kinship::extract::internal {
namespace {

enum PatternClass : unsigned {
  kToken = 1,
  kTechniqueId = 2,
  kMutexWord = 3,
  kAttribWord = 4,
  kTlpWord = 5
};

const PatternSet& CandidatePatterns() {
  static const PatternSet* set = [] {
    std::vector<PatternSet::Pattern> p = {
        // dotted names, IPv4, defanged dots
        {R"([A-Za-z0-9_\-](?:\.|\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)|\{dot\}|\[\.|\.\])[A-Za-z0-9])",
         kToken, true},
        {R"([0-9a-fA-F]{32})", kToken, false},                                   // hashes, TLSH
        {R"(@|\[at\]|\(at\)|\{at\}|\[@\])", kToken, true},                       // e-mail
        {R"(://|\[://\]|\[:\]//)", kToken, false},                               // URLs
        {R"([0-9a-fA-F]{1,4}::?[0-9a-fA-F]{1,4}:)", kToken, false},              // IPv6
        {R"(::[0-9a-fA-F]{1,4})", kToken, false},                                // IPv6
        {R"(\d:[A-Za-z0-9/+]{6})", kToken, false},                               // ssdeep
        {R"(CVE-\d{4}-\d{4})", kToken, true},                                    // CVE
        {R"(\b[13][a-km-zA-HJ-NP-Z1-9]{25})", kToken, false},                    // Bitcoin base58
        {R"(\bbc1[a-z0-9]{11})", kToken, true},                                  // Bitcoin bech32
        {R"(\bHK(?:EY_|LM\\|CU\\|CR\\|U\\|CC\\))", kToken, true},                // registry
        {R"(\b[A-Za-z]:\\|%[A-Za-z_]{2,}%\\|\\\\[A-Za-z0-9.])", kToken, false},  // paths, pipes
        {R"(\bT(?:1\d{3}|08\d{2}))", kTechniqueId, false},
        {R"(\bTLP)", kTlpWord, false},
        {R"(\bmut(?:ex|ant)(?:es|s)?\b)", kMutexWord, true},
        {R"(attribut|(?:carried out|conducted|operated|perpetrated|orchestrated) by|\b(?:is|was|are|were)(?: (?:most )?(?:likely|probably|almost certainly))? (?:behind|responsible for))",
         kAttribWord, true},
    };
    auto compiled = PatternSet::Compile(p);
    // The patterns are constants: failing to compile them is a programming error.
    if (!compiled.ok()) std::abort();
    return new PatternSet(std::move(*compiled));
  }();
  return *set;
}

bool IsTokenChar(unsigned char c) {
  if (c <= 0x20 || c >= 0x7f) return false;
  switch (c) {
    case '"':
    case '\'':
    case '<':
    case '>':
    case '|':
    case ',':
    case ';':
    case '`':
    case '*':
      return false;
    default:
      return true;
  }
}

bool IsWordChar(char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// ---- the text's layout: lines, blocks, sections ----

enum LineFlag : uint8_t { kCode = 1, kTableRow = 2, kIoc = 4, kRefs = 8 };

bool ContainsAny(std::string_view lower, std::initializer_list<std::string_view> words) {
  for (std::string_view w : words) {
    if (lower.find(w) != std::string_view::npos) return true;
  }
  return false;
}

enum class Section { kNone, kIoc, kRefs };

std::optional<Section> ClassifyHeading(std::string_view heading) {
  std::string h = absl::AsciiStrToLower(absl::StripAsciiWhitespace(AV(heading)));
  while (!h.empty() && (h.back() == ':' || h.back() == '#')) h.pop_back();
  if (ContainsAny(h,
                  {"reference", "further reading", "bibliography", "related article", "read more",
                   "external link", "sources", "footnote", "about the author", "acknowledg"})) {
    return Section::kRefs;
  }
  if (ContainsAny(h, {"indicator",  "ioc",       "compromise", "hashes",
                      "samples",    "c2 server", "c&c",        "command and control",
                      "network",    "domains",   "ip address", "urls",
                      "file names", "filenames", "mutex",      "infrastructure",
                      "observable", "artifact",  "artefact",   "registry"})) {
    return Section::kIoc;
  }
  return std::nullopt;
}

class Layout {
 public:
  explicit Layout(const Document& doc) : doc_(doc) {
    std::string_view t = doc.text;
    line_starts_.push_back(0);
    for (size_t i = t.find('\n'); i != std::string_view::npos; i = t.find('\n', i + 1)) {
      line_starts_.push_back(i + 1);
    }
    flags_.assign(line_starts_.size(), 0);
    pages_.assign(line_starts_.size(), 1);
    bool in_fence = false;
    Section section = Section::kNone;
    int page = 1;
    const bool markdown_like = doc.kind != DocKind::kText && doc.kind != DocKind::kPdf;
    for (size_t i = 0; i < line_starts_.size(); ++i) {
      std::string_view line = Line(i);
      if (doc.kind == DocKind::kPdf) {
        page += static_cast<int>(std::count(line.begin(), line.end(), '\f'));
      }
      pages_[i] = page;
      std::string_view trimmed = SV(absl::StripAsciiWhitespace(AV(line)));
      while (!trimmed.empty() && trimmed.front() == '\f') trimmed.remove_prefix(1);
      if (absl::StartsWith(AV(trimmed), "```") || absl::StartsWith(AV(trimmed), "~~~")) {
        in_fence = !in_fence;
        flags_[i] |= kCode;
        continue;
      }
      if (in_fence) {
        flags_[i] |= kCode | SectionFlag(section);
        continue;
      }
      // Headings: Markdown "#", setext underlines, or (any kind) a short line naming an IOC or
      // references section.
      bool heading = false;
      std::string_view heading_text = trimmed;
      if (!trimmed.empty() && trimmed.front() == '#') {
        heading = true;
        while (!heading_text.empty() && heading_text.front() == '#') heading_text.remove_prefix(1);
      } else if (i + 1 < line_starts_.size() && IsUnderline(Line(i + 1)) && !trimmed.empty()) {
        heading = true;
      } else if (!trimmed.empty() && trimmed.size() <= 60 && trimmed.back() != '.' &&
                 trimmed.back() != ',' && trimmed.find('|') == std::string_view::npos &&
                 (i == 0 || IsBlank(Line(i - 1)) || trimmed.back() == ':')) {
        std::string_view bare =
            trimmed.back() == ':' ? trimmed.substr(0, trimmed.size() - 1) : trimmed;
        const bool plain_words = bare.find_first_of(".@[\\:=") == std::string_view::npos;
        const size_t words = std::count(bare.begin(), bare.end(), ' ') + 1;
        if (auto s = ClassifyHeading(trimmed);
            s && plain_words && words <= 6 && LooksLikeTitle(trimmed)) {
          section = *s;
          continue;
        }
        if (!markdown_like && LooksLikeTitle(trimmed) && trimmed.find(' ') != std::string::npos &&
            trimmed.find_first_of(".:/\\@[") == std::string_view::npos &&
            (i + 1 >= line_starts_.size() || IsBlank(Line(i + 1)))) {
          section = Section::kNone;  // a plain-text heading ends an IOC section
          continue;
        }
      }
      if (heading) {
        section = ClassifyHeading(heading_text).value_or(Section::kNone);
        continue;
      }
      flags_[i] |= SectionFlag(section);
      if (IsTableRow(trimmed, doc.kind)) flags_[i] |= kTableRow;
    }
  }

  size_t LineOf(size_t pos) const {
    // Look-ups come mostly in text order and several times for one candidate: the last answer is
    // checked first, then the next line, before a binary search.
    const size_t n = line_starts_.size();
    size_t h = last_line_;
    if (line_starts_[h] <= pos) {
      if (h + 1 == n || pos < line_starts_[h + 1]) return h;
      if (h + 2 == n || pos < line_starts_[h + 2]) return last_line_ = h + 1;
    }
    auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), pos);
    return last_line_ = static_cast<size_t>(it - line_starts_.begin()) - 1;
  }
  std::string_view Line(size_t i) const {
    size_t b = line_starts_[i];
    size_t e = i + 1 < line_starts_.size() ? line_starts_[i + 1] - 1 : doc_.text.size();
    return std::string_view(doc_.text).substr(b, e - b);
  }
  size_t LineStart(size_t i) const { return line_starts_[i]; }
  uint8_t Flags(size_t i) const { return flags_[i]; }

  std::string Location(size_t pos) const {
    size_t li = LineOf(pos);
    if (doc_.kind == DocKind::kHtml && !doc_.anchors.empty()) {
      auto it =
          std::upper_bound(doc_.anchors.begin(), doc_.anchors.end(), pos,
                           [](size_t p, const Document::Anchor& a) { return p < a.text_offset; });
      int line = it == doc_.anchors.begin() ? 1 : std::prev(it)->source_line;
      return absl::StrCat(line);
    }
    size_t col = pos - line_starts_[li] + 1;
    if (doc_.kind == DocKind::kPdf) {
      // Line within its page.
      size_t first = li;
      while (first > 0 && pages_[first - 1] == pages_[li]) --first;
      std::string_view l = Line(li);
      size_t ff = l.rfind('\f', col - 1);
      if (ff != std::string_view::npos) col -= ff + 1;
      return absl::StrCat("p", pages_[li], ":", li - first + 1, ":", col);
    }
    return absl::StrCat(li + 1, ":", col);
  }

  std::string Snippet(size_t begin, size_t end) const {
    size_t li = LineOf(begin);
    std::string_view line = Line(li);
    size_t ls = line_starts_[li];
    size_t b = begin - ls > 40 ? begin - ls - 40 : 0;
    size_t e = std::min(line.size(), end - ls + 40);
    while (b > 0 && (static_cast<unsigned char>(line[b]) & 0xC0) == 0x80) --b;
    while (e < line.size() && (static_cast<unsigned char>(line[e]) & 0xC0) == 0x80) ++e;
    std::string out;
    out.reserve(e - b + 6);
    if (b > 0) out = "...";
    // Runs of whitespace collapse to one space; other bytes are copied a run at a time.
    const char* p = line.data() + b;
    const char* const stop = line.data() + e;
    auto space = [](char c) { return absl::ascii_isspace(static_cast<unsigned char>(c)); };
    while (p < stop) {
      if (space(*p)) {
        if (!out.empty() && out.back() != ' ') out.push_back(' ');
        ++p;
        continue;
      }
      const char* run = p;
      while (p < stop && !space(*p)) ++p;
      out.append(run, static_cast<size_t>(p - run));
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    if (!out.empty() && out.front() == ' ') out.erase(0, 1);
    if (e < line.size()) out += "...";
    return out;
  }

 private:
  static uint8_t SectionFlag(Section s) {
    return s == Section::kIoc ? kIoc : s == Section::kRefs ? kRefs : 0;
  }
  static bool IsBlank(std::string_view l) { return absl::StripAsciiWhitespace(AV(l)).empty(); }
  static bool IsUnderline(std::string_view l) {
    std::string_view t = SV(absl::StripAsciiWhitespace(AV(l)));
    return t.size() >= 3 && (t.find_first_not_of('=') == std::string_view::npos ||
                             t.find_first_not_of('-') == std::string_view::npos);
  }
  // A heading starts with a letter and has few digits (a hash or an address is not a title).
  static bool LooksLikeTitle(std::string_view t) {
    if (t.empty() || !absl::ascii_isalpha(static_cast<unsigned char>(t.front()))) return false;
    size_t digits = std::count_if(t.begin(), t.end(), [](char c) {
      return absl::ascii_isdigit(static_cast<unsigned char>(c));
    });
    return digits * 4 < t.size();
  }
  static bool IsTableRow(std::string_view t, DocKind kind) {
    if (t.empty()) return false;
    size_t pipes = std::count(t.begin(), t.end(), '|');
    if (t.front() == '|' || pipes >= 2) return true;
    if (t.find('\t') != std::string_view::npos) return true;
    if (kind == DocKind::kPdf) {  // pdftotext -layout separates columns with runs of spaces
      size_t runs = 0;
      for (size_t i = 0; i + 3 <= t.size(); ++i) {
        if (t.substr(i, 3) == "   ") {
          ++runs;
          while (i < t.size() && t[i] == ' ') ++i;
        }
      }
      return runs >= 1;
    }
    return false;
  }

  const Document& doc_;
  std::vector<size_t> line_starts_;
  std::vector<uint8_t> flags_;
  std::vector<int> pages_;
  mutable size_t last_line_ = 0;  // LineOf's hint
};

// ---- tokens ----

struct Span {
  size_t begin, end;
};

// Grows [pos, pos+1) to the surrounding token. A Markdown link "[text](url)" is two tokens.
Span GrowToken(std::string_view t, size_t pos) {
  size_t b = pos, e = pos + 1;
  while (b > 0 && IsTokenChar(static_cast<unsigned char>(t[b - 1]))) {
    if (t[b - 1] == '(' && b >= 2 && t[b - 2] == ']') break;
    --b;
  }
  while (e < t.size() && IsTokenChar(static_cast<unsigned char>(t[e]))) {
    if (t[e] == ']' && e + 1 < t.size() && t[e + 1] == '(') break;
    ++e;
  }
  return {b, e};
}

bool IsDefangMarker(std::string_view s) {
  return s == "[.]" || s == "(.)" || s == "{.}" || s == "[dot]" || s == "(dot)";
}

// Strips sentence punctuation and unbalanced or wrapping brackets from a token's ends.
Span TrimToken(std::string_view t, Span s) {
  auto count = [&](char c) {
    return std::count(t.begin() + static_cast<long>(s.begin), t.begin() + static_cast<long>(s.end),
                      c);
  };
  for (int guard = 0; guard < 64 && s.end > s.begin; ++guard) {
    char f = t[s.begin], l = t[s.end - 1];
    size_t n = s.end - s.begin;
    if (std::string_view(".:!?").find(l) != std::string_view::npos) {
      if (l == ':' && n >= 2 && t[s.end - 2] == ':') break;  // IPv6 "fe80::"
      --s.end;
      continue;
    }
    if ((l == ')' && count('(') < count(')')) || (l == ']' && count('[') < count(']')) ||
        (l == '}' && count('{') < count('}'))) {
      --s.end;
      continue;
    }
    if ((f == '(' && count('(') > count(')')) || (f == '[' && count('[') > count(']')) ||
        (f == '{' && count('{') > count('}'))) {
      ++s.begin;
      continue;
    }
    if (n > 3 && ((f == '[' && l == ']') || (f == '(' && l == ')') || (f == '{' && l == '}')) &&
        !IsDefangMarker(t.substr(s.begin, 3)) && !IsDefangMarker(t.substr(s.end - 3, 3))) {
      ++s.begin;
      --s.end;
      continue;
    }
    if (f == '-' || f == '.' || f == ':' || f == '!' || f == '?' || f == '=' || f == '~') {
      if (f == ':' && n >= 2 && t[s.begin + 1] == ':') break;  // IPv6 "::1"
      ++s.begin;
      continue;
    }
    break;
  }
  if (s.end < s.begin) s.end = s.begin;
  return s;
}

constexpr std::string_view kContextWords[] = {"c2",
                                              "c&c",
                                              "command and control",
                                              "command-and-control",
                                              "contacted",
                                              "contacts",
                                              "connects",
                                              "connect to",
                                              "connected to",
                                              "hosted",
                                              "hosting",
                                              "beacon",
                                              "callback",
                                              "call back",
                                              "resolve",
                                              "download",
                                              "exfiltrat",
                                              "domain",
                                              "ip address",
                                              "server",
                                              "url",
                                              "payload",
                                              "dropped",
                                              "drops",
                                              "dropper",
                                              "file",
                                              "named",
                                              "attachment",
                                              "malicious",
                                              "phishing",
                                              "registered",
                                              "sinkhole",
                                              "infrastructure",
                                              "ioc",
                                              "loader",
                                              "executable",
                                              "script",
                                              "archive",
                                              "saved as",
                                              "written to",
                                              "sample",
                                              "document",
                                              "implant",
                                              "backdoor",
                                              "staging",
                                              "redirect",
                                              "lure",
                                              "sender",
                                              "sent from",
                                              "e-mail address"};

bool HasContextWord(std::string_view window) {
  // One DFA pass instead of a search per word.
  static const RE2* re = [] {
    std::string alt;
    for (std::string_view w : kContextWords) {
      if (!alt.empty()) alt += "|";
      alt += RE2::QuoteMeta(w);
    }
    return new RE2("(?i)(?:^|[^a-z])(?:" + alt + ")");
  }();
  return RE2::PartialMatch(window, *re);
}

// "version 1.2.3.4", "build 10.0.19041.1", "section 3.2.1.4": a dotted number that is a version
// or a paragraph number, not an address. `before` is the line up to the candidate.
bool FollowsVersionWord(std::string_view before) {
  static const RE2 kTail(R"((?i)(?:^|[^a-z])v(?:er)?\.?[\s:(]*$)");
  static const RE2 kWord(
      R"((?i)(?:^|[^a-z])(?:version|build|release|firmware|patch|revision|section|chapter|paragraph|figure|oid))");
  before = before.substr(before.size() > 60 ? before.size() - 60 : 0);
  return RE2::PartialMatch(before, kTail) || RE2::PartialMatch(before, kWord);
}

// The line talks about network infrastructure (an IOC table's "Domain" column, "C2", ...).
bool NetworkHint(std::string_view line) {
  static const RE2 kNet(
      "(?i)domain|c2|c&c|host|server|url|dns|resolv|contact|connect|beacon|callback|network");
  return RE2::PartialMatch(line.substr(0, 400), kNet);
}

class Engine {
 public:
  Engine(const Document& doc, const NameCatalog* catalog, const ExtractOptions& options,
         const Checks& checks)
      : doc_(doc),
        text_(doc.text),
        layout_(doc),
        catalog_(catalog),
        options_(options),
        checks_(checks) {}

  Result Run() {
    std::vector<Span> tokens;
    std::vector<size_t> techniques, mutexes, attribs, tlps;
    // Matches arrive by increasing end; one token can hold many (a sha256 ends 33 matches of the
    // 32-hex pattern), so each is grown to its token here and the rest of that token skipped.
    size_t done_until = 0;
    CandidatePatterns().Scan(text_, [&](unsigned id, size_t end) {
      switch (id) {
        case kToken:
          if (end > 0 && end - 1 >= done_until) {
            Span s = GrowToken(text_, end - 1);
            done_until = s.end;
            tokens.push_back(s);
          }
          break;
        case kTechniqueId:
          techniques.push_back(end);
          break;
        case kMutexWord:
          mutexes.push_back(end);
          break;
        case kAttribWord:
          attribs.push_back(end);
          break;
        case kTlpWord:
          tlps.push_back(end);
          break;
        default:
          break;
      }
    });
    for (Span s : tokens) Token(s);
    for (size_t end : techniques) TechniqueId(end);
    for (size_t end : mutexes) Mutex(end);
    if (catalog_ != nullptr) {
      name_hits_ = FindNames(*catalog_, text_);
      for (const NameHit& h : name_hits_) Name(h);
    }
    for (size_t end : attribs) Attribution(end);
    TitleAttribution();
    if (!tlps.empty()) Tlp(tlps.front());
    return std::move(result_);
  }

 private:
  Context ContextAt(Span s, bool* keyword_only) const {
    size_t li = layout_.LineOf(s.begin);
    uint8_t f = layout_.Flags(li);
    *keyword_only = false;
    if (f & kCode) return Context::kCodeBlock;
    if (f & kTableRow) return Context::kTable;
    if (f & kIoc) return Context::kIocSection;
    std::string_view line = layout_.Line(li);
    size_t ls = layout_.LineStart(li);
    size_t b = s.begin - ls, e = s.end - ls;
    if (line.find('`') < b) {
      size_t ticks_before = std::count(line.begin(), line.begin() + static_cast<long>(b), '`');
      if (ticks_before % 2 == 1 && line.find('`', e) != std::string_view::npos) {
        return Context::kInlineCode;
      }
    }
    if (b > 0 && e < line.size() && (line[b - 1] == '"' || line[b - 1] == '\'') &&
        line[e] == line[b - 1]) {
      return Context::kInlineCode;
    }
    // The window is the same sentence: up to 60 bytes before and 40 after.
    size_t wb = b > 60 ? b - 60 : 0;
    if (size_t stop = line.substr(0, b).rfind(". "); stop != std::string_view::npos && stop >= wb) {
      wb = stop + 2;
    }
    std::string_view after = line.substr(e, 40);
    if (size_t stop = after.find(". "); stop != std::string_view::npos)
      after = after.substr(0, stop);
    std::string& window = window_;  // reused: no allocation per candidate
    window.assign(line.substr(wb, b - wb));
    window.push_back(' ');
    window.append(after);
    if (HasContextWord(window)) {
      *keyword_only = true;
      return Context::kKeyword;
    }
    return Context::kProse;
  }

  void Reject(std::string_view value, std::string_view reason) {
    ++result_.rejected;
    if (result_.rejected_examples.size() < 20) {
      result_.rejected_examples.push_back(absl::StrCat(AV(value), ": ", AV(reason)));
    }
  }

  // Quoted or backticked registry keys and paths may contain spaces: take the whole quotation;
  // in a table row, the whole cell.
  Span ExtendQuoted(Span s) const {
    size_t li = layout_.LineOf(s.begin);
    std::string_view line = layout_.Line(li);
    size_t ls = layout_.LineStart(li);
    size_t b = s.begin - ls;
    if (b > 0 && (line[b - 1] == '"' || line[b - 1] == '`' || line[b - 1] == '\'')) {
      size_t close = line.find(line[b - 1], b);
      if (close != std::string_view::npos) return {s.begin, ls + close};
    }
    if (layout_.Flags(li) & kTableRow) {
      size_t close = line.find('|', b);
      if (close == std::string_view::npos) close = line.size();
      std::string_view cell = SV(absl::StripTrailingAsciiWhitespace(AV(line.substr(b, close - b))));
      return {s.begin, ls + b + cell.size()};
    }
    return s;
  }

  void Token(Span s) {
    s = TrimToken(text_, s);
    if (s.end <= s.begin) return;
    ++result_.candidates;
    std::string_view tok = text_.substr(s.begin, s.end - s.begin);
    // Prose repeats the same non-indicators ("e.g.", "2.1", "v1.2"): a token already judged not
    // to be one, by rules that looked at the token alone, is judged the same way again.
    if (auto it = not_indicators_.find(AV(tok)); it != not_indicators_.end()) {
      if (!it->second.reason.empty()) Reject(it->second.value, it->second.reason);
      return;
    }
    const std::string_view whole_token = tok;
    Rejection why;
    std::string refanged = MayBeDefanged(tok) ? checks_.refang(tok) : std::string(tok);
    bool defanged = refanged != tok;
    bool hint_used = false;  // the verdict depended on the line, not only on the token
    auto hint = [&] {
      hint_used = true;
      return NetworkHint(layout_.Line(layout_.LineOf(s.begin)));
    };
    auto c = ClassifyToken(refanged, defanged, checks_, &why, hint);
    if (!c && why.reason.empty()) {
      // "sha256:abc...", "url=http://...", "C2:1.2.3.4": try the part after the label.
      size_t cut = tok.find_last_of("=");
      if (cut == std::string_view::npos && std::count(tok.begin(), tok.end(), ':') == 1 &&
          tok.find("://") == std::string_view::npos) {
        cut = tok.find(':');
      }
      if (cut != std::string_view::npos && cut + 1 < tok.size()) {
        Span sub = TrimToken(text_, {s.begin + cut + 1, s.end});
        if (sub.end > sub.begin) {
          s = sub;
          tok = text_.substr(s.begin, s.end - s.begin);
          refanged = MayBeDefanged(tok) ? checks_.refang(tok) : std::string(tok);
          defanged = refanged != tok;
          c = ClassifyToken(refanged, defanged, checks_, &why, hint);
        }
      }
    }
    if (!c) {
      if (!why.reason.empty()) Reject(tok, why.reason);
      if (!hint_used && whole_token.size() <= kMaxRememberedTokenBytes &&
          not_indicators_.size() < kMaxRememberedTokens) {
        not_indicators_.emplace(std::string(whole_token), Verdict{std::string(tok), why.reason});
      }
      return;
    }
    if (c->type == IndicatorType::kRegistryKey || c->type == IndicatorType::kFilePath ||
        c->type == IndicatorType::kNamedPipe) {
      Span q = ExtendQuoted(s);
      if (q.end > s.end) {
        std::string_view longer = text_.substr(q.begin, q.end - q.begin);
        Rejection w2;
        if (auto c2 = ClassifyToken(checks_.refang(longer), false, checks_, &w2);
            c2 && c2->type == c->type) {
          s = q;
          tok = longer;
          c = std::move(c2);
        }
      }
    }
    SetKey(c->type, c->value);
    if (auto it = index_.find(key_); it != index_.end()) {
      Finding& f = result_.indicators[it->second];
      if (!f.weak) {  // already believed: just count it
        ++f.occurrences;
        if (defanged && !f.defanged) {
          f.defanged = true;
          ++result_.defanged;
        }
        return;
      }
    }
    bool keyword_only = false;
    Context ctx = ContextAt(s, &keyword_only);
    size_t li = layout_.LineOf(s.begin);
    const uint8_t flags = layout_.Flags(li);
    std::string note = c->note;
    const bool networkish = c->type == IndicatorType::kDomain || c->type == IndicatorType::kUrl ||
                            c->type == IndicatorType::kEmail;
    // Link targets (HTML href rendered as "<...>", Markdown "(url)") are kept only where the
    // author lists indicators; elsewhere they are references.
    const bool link_target =
        (s.begin > 0 && text_[s.begin - 1] == '<' && s.end < text_.size() && text_[s.end] == '>' &&
         doc_.kind == DocKind::kHtml) ||
        (s.begin > 1 && text_[s.begin - 1] == '(' && text_[s.begin - 2] == ']');
    if (networkish && !defanged) {
      if (flags & kRefs) {
        Reject(c->value, "in a references section");
        return;
      }
      if (!doc_.self_host.empty()) {
        std::string host = HostOf(c->value, c->type);
        auto mine = checks_.registered_domain(doc_.self_host);
        auto theirs = checks_.registered_domain(host);
        if (host == doc_.self_host || (mine && theirs && *mine == *theirs)) {
          Reject(c->value, "the report's own site");
          return;
        }
      }
      if (link_target) {
        if (ctx == Context::kProse || ctx == Context::kKeyword || ctx == Context::kInlineCode) {
          Reject(c->value, "link target outside an IOC list");
          return;
        }
        note = note.empty() ? "link target" : absl::StrCat(note, "; link target");
      }
    }
    if (c->type == IndicatorType::kIpv4 && !defanged &&
        FollowsVersionWord(
            text_.substr(s.begin > 60 ? s.begin - 60 : 0, std::min<size_t>(s.begin, 60)))) {
      Reject(c->value, "version number, not an address");
      return;
    }
    if (c->needs_context && ctx == Context::kProse) {
      Reject(c->value, "file name in prose without supporting context");
      return;
    }
    if (c->type == IndicatorType::kMd5) {
      // An md5-shaped value labelled as an import hash or a JA3 fingerprint is one.
      size_t ls = layout_.LineStart(li);
      size_t from = s.begin - ls > 40 ? s.begin - 40 : ls;
      std::string lower = absl::AsciiStrToLower(AV(text_.substr(from, s.begin - from)));
      if (lower.find("imphash") != std::string::npos ||
          lower.find("import hash") != std::string::npos) {
        c->type = IndicatorType::kImphash;
        note = "imphash by context";
      } else if (lower.find("ja3") != std::string::npos) {
        c->type = IndicatorType::kJa3;
        note = "JA3 by context";
      }
    }
    const bool weak = c->prose_weak && ctx == Context::kProse;
    if (weak && !options_.keep_weak) {
      Reject(c->value, "weak: plain prose");
      return;
    }
    Add(c->type, std::string(tok), c->value, defanged, ctx, weak, s, note);
  }

  static std::string HostOf(const std::string& value, IndicatorType type) {
    if (type == IndicatorType::kEmail) return value.substr(value.find('@') + 1);
    std::string_view v = value;
    if (size_t p = v.find("://"); p != std::string_view::npos) v.remove_prefix(p + 3);
    return std::string(v.substr(0, v.find_first_of("/:?#")));
  }

  // key_ = the finding's (type, value) key, in a reused buffer.
  void SetKey(IndicatorType type, std::string_view value) {
    key_.assign(1, static_cast<char>(type));
    key_.append(value);
  }

  void Add(IndicatorType type, std::string raw, std::string value, bool defanged, Context ctx,
           bool weak, Span s, std::string note) {
    SetKey(type, value);
    auto it = index_.find(key_);
    if (it != index_.end()) {
      Finding& f = result_.indicators[it->second];
      ++f.occurrences;
      // A later, better-supported sighting strengthens the finding.
      if (f.weak && !weak) {
        f.weak = false;
        f.context = ctx;
      }
      if (defanged && !f.defanged) {
        f.defanged = true;
        ++result_.defanged;
      }
      return;
    }
    if (result_.indicators.size() >= limits::kMaxIndicatorsPerIncident) {
      Reject(value, "over kMaxIndicatorsPerIncident");
      return;
    }
    Finding f;
    f.type = type;
    f.raw = std::move(raw);
    f.value = std::move(value);
    f.defanged = defanged;
    f.context = ctx;
    f.weak = weak;
    f.location = layout_.Location(s.begin);
    f.snippet = layout_.Snippet(s.begin, s.end);
    f.note = std::move(note);
    if (defanged) ++result_.defanged;
    index_.emplace(key_, result_.indicators.size());
    result_.indicators.push_back(std::move(f));
  }

  void TechniqueId(size_t end) {
    if (end < 5) return;
    size_t b = end - 5;
    if (b > 0 && IsWordChar(text_[b - 1])) return;
    size_t e = end;
    if (e + 4 <= text_.size() && text_[e] == '.' &&
        std::all_of(text_.begin() + static_cast<long>(e) + 1,
                    text_.begin() + static_cast<long>(e) + 4,
                    [](char c) { return absl::ascii_isdigit(static_cast<unsigned char>(c)); })) {
      e += 4;
    }
    if (e < text_.size() &&
        (IsWordChar(text_[e]) || (text_[e] == '.' && e + 1 < text_.size() &&
                                  absl::ascii_isdigit(static_cast<unsigned char>(text_[e + 1]))))) {
      return;
    }
    std::string id(text_.substr(b, e - b));
    for (NameMention& m : result_.techniques) {
      if (m.id == id) {  // seen before: no catalog look-up
        ++m.occurrences;
        return;
      }
    }
    std::string name;
    if (catalog_ != nullptr) {
      for (const NameCatalog::Entry& en : catalog_->entries()) {
        if (en.kind == NameCatalog::Kind::kTechnique && en.id == id) {
          name = en.name;
          break;
        }
      }
    }
    AddMention(&result_.techniques, NameCatalog::Kind::kTechnique, id, name, id, {b, e});
  }

  void AddMention(std::vector<NameMention>* into, NameCatalog::Kind kind, const std::string& id,
                  const std::string& name, std::string_view matched, Span s) {
    for (NameMention& m : *into) {
      if (m.id == id) {
        ++m.occurrences;
        return;
      }
    }
    NameMention m;
    m.kind = kind;
    m.id = id;
    m.name = name;
    m.matched = std::string(matched);
    m.location = layout_.Location(s.begin);
    m.snippet = layout_.Snippet(s.begin, s.end);
    into->push_back(std::move(m));
  }

  void Name(const NameHit& h) {
    const NameCatalog::Entry& en = catalog_->entries()[h.entry];
    std::string_view matched = text_.substr(h.begin, h.end - h.begin);
    switch (en.kind) {
      case NameCatalog::Kind::kTechnique:
        AddMention(&result_.techniques, en.kind, en.id, en.name, matched, {h.begin, h.end});
        break;
      case NameCatalog::Kind::kSoftware:
        AddMention(&result_.software, en.kind, en.id, en.name, matched, {h.begin, h.end});
        break;
      case NameCatalog::Kind::kActor:
        AddMention(&result_.actors, en.kind, en.id, en.name, matched, {h.begin, h.end});
        break;
    }
  }

  // Mutex values "where marked as such": the value after the word mutex/mutant.
  void Mutex(size_t end) {
    size_t li = layout_.LineOf(end > 0 ? end - 1 : 0);
    std::string_view line = layout_.Line(li);
    size_t ls = layout_.LineStart(li);
    size_t p = end - ls;
    const bool table = layout_.Flags(li) & kTableRow;
    auto skip_space = [&] {
      while (p < line.size() && (line[p] == ' ' || line[p] == '\t' || line[p] == ':' ||
                                 line[p] == '=' || line[p] == '-' || line[p] == '|')) {
        ++p;
      }
    };
    skip_space();
    for (int i = 0; i < 4; ++i) {  // filler words: "mutex named", "mutex called the"
      bool skipped = false;
      for (std::string_view w : {"named", "called", "name", "is", "was", "object", "value", "with",
                                 "the", "a", "of", "string"}) {
        if (absl::StartsWithIgnoreCase(AV(line.substr(p)), AV(w)) &&
            (p + w.size() == line.size() || line[p + w.size()] == ' ' ||
             line[p + w.size()] == ':')) {
          p += w.size();
          skip_space();
          skipped = true;
          break;
        }
      }
      if (!skipped) break;
    }
    if (p >= line.size()) return;
    // "the mutex created by the implant is `X`": when a plain word follows, the value is the
    // next quotation in the sentence, if any.
    if (absl::ascii_islower(static_cast<unsigned char>(line[p]))) {
      size_t q = line.find_first_of("`\"", p);
      size_t stop = line.find(". ", p);
      if (q == std::string_view::npos || q > p + 80 ||
          (stop != std::string_view::npos && q > stop)) {
        return;
      }
      p = q;
    }
    size_t b = p, e;
    bool quoted = false;
    if (line[p] == '"' || line[p] == '`' || line[p] == '\'') {
      b = p + 1;
      e = line.find(line[p], b);
      if (e == std::string_view::npos) return;
      quoted = true;
    } else if (table) {
      e = line.find('|', p);
      if (e == std::string_view::npos) e = line.size();
      while (e > b && line[e - 1] == ' ') --e;
    } else {
      e = p;
      while (e < line.size() && !absl::ascii_isspace(static_cast<unsigned char>(line[e]))) ++e;
      while (e > b && std::string_view(".,;:)").find(line[e - 1]) != std::string_view::npos) --e;
    }
    std::string_view value = line.substr(b, e - b);
    if (value.size() < 3 || value.size() > 200) return;
    const bool marked = quoted || table || (layout_.Flags(li) & (kCode | kIoc));
    const bool odd = value.find_first_of("0123456789_\\{}-$#@!.") != std::string_view::npos;
    if (!marked && !odd) return;  // "the mutex prevents..." is prose
    Add(IndicatorType::kMutex, std::string(value), std::string(value), false,
        quoted ? Context::kInlineCode : ContextAtLine(li), false, {ls + b, ls + e}, "");
  }

  Context ContextAtLine(size_t li) const {
    uint8_t f = layout_.Flags(li);
    if (f & kCode) return Context::kCodeBlock;
    if (f & kTableRow) return Context::kTable;
    if (f & kIoc) return Context::kIocSection;
    return Context::kKeyword;
  }

  // The sentence around `pos`: back to ". ", a blank line or 300 bytes; forward likewise.
  Span Sentence(size_t pos) const {
    size_t b = pos, e = pos;
    size_t lo = pos > 300 ? pos - 300 : 0;
    while (b > lo) {
      if (text_[b - 1] == '\n' && b >= 2 && text_[b - 2] == '\n') break;
      if ((text_[b - 1] == ' ' || text_[b - 1] == '\n') && b >= 2 &&
          (text_[b - 2] == '.' || text_[b - 2] == '!' || text_[b - 2] == '?')) {
        break;
      }
      --b;
    }
    size_t hi = std::min(text_.size(), pos + 300);
    while (e < hi) {
      if ((text_[e] == '.' || text_[e] == '!' || text_[e] == '?') &&
          (e + 1 == text_.size() || text_[e + 1] == ' ' || text_[e + 1] == '\n')) {
        ++e;
        break;
      }
      if (text_[e] == '\n' && e + 1 < text_.size() && text_[e + 1] == '\n') break;
      ++e;
    }
    return {b, e};
  }

  static int StatedConfidence(std::string_view sentence) {
    std::string lower = absl::AsciiStrToLower(AV(sentence));
    if (lower.find("high confidence") != std::string::npos) return 80;
    if (lower.find("moderate confidence") != std::string::npos ||
        lower.find("medium confidence") != std::string::npos) {
      return 50;
    }
    if (lower.find("low confidence") != std::string::npos) return 20;
    return -1;
  }

  static bool Negated(std::string_view before_trigger) {
    std::string lower = absl::AsciiStrToLower(AV(before_trigger));
    for (std::string_view w : {" not ", "n't ", " no ", "unattribut", "cannot", " not yet",
                               "without ", "too early", "refrain", "difficult to", "unable to"}) {
      if (lower.find(w) != std::string::npos) return true;
    }
    return false;
  }

  // Without a catalog, a name counts as an actor only when it has an actor naming scheme.
  static bool LooksLikeActorName(std::string_view name) {
    static const RE2 kActor(
        R"((?:APT ?-?\d+|UNC\d+|TA\d{3,}|FIN\d+|G\d{4}|Storm-\d+|DEV-\d+|TG-\d+|[A-Z][A-Za-z]+ (?:Bear|Panda|Kitten|Chollima|Spider|Typhoon|Blizzard|Sleet|Sandstorm|Tempest|Hail|Dust|Rain|Jackal|Tiger|Leopard|Buffalo|Crane)|[A-Z][A-Za-z0-9]+ (?:Group|Team|Gang)))");
    return RE2::FullMatch(name, kActor);
  }

  void Attribution(size_t end) {
    Span sent = Sentence(end > 0 ? end - 1 : 0);
    if (!seen_sentences_.insert(sent.begin).second) return;
    std::string_view sentence = text_.substr(sent.begin, sent.end - sent.begin);
    std::string_view before = text_.substr(sent.begin, end - sent.begin);
    if (Negated(absl::StrCat(" ", AV(before)))) return;
    std::string_view after = text_.substr(end, sent.end > end ? sent.end - end : 0);
    std::string lower_before =
        absl::AsciiStrToLower(AV(before.substr(before.size() > 40 ? before.size() - 40 : 0)));
    const bool backward = lower_before.find("behind") != std::string::npos ||
                          lower_before.find("responsible for") != std::string::npos;
    std::string actor_name, actor_id;
    size_t name_pos = 0;
    if (catalog_ != nullptr) {
      // The nearest actor mention after the trigger ("attributed ... to X", "conducted by X") or,
      // for "X is behind", before it.
      size_t lo = backward ? (end > 160 ? end - 160 : 0) : end;
      size_t hi = backward ? end : std::min(sent.end, end + 140);
      const NameHit* best = nullptr;
      for (const NameHit& h : name_hits_) {
        if (catalog_->entries()[h.entry].kind != NameCatalog::Kind::kActor) continue;
        if (h.begin < std::max(lo, sent.begin) || h.end > hi) continue;
        if (backward) {
          best = &h;  // keep the last one before the trigger
        } else if (best == nullptr) {
          best = &h;
        }
      }
      if (best == nullptr) return;
      const NameCatalog::Entry& en = catalog_->entries()[best->entry];
      actor_name = std::string(text_.substr(best->begin, best->end - best->begin));
      actor_id = en.id;
      name_pos = best->begin;
    } else {
      if (backward) return;
      static const RE2 kName(
          R"(^(?:[a-z]+\s+){0,12}?(?:to|by)\s+(?:the\s+)?(?:(?:group|actor|threat actor|cluster|APT group)\s+(?:known as|called|dubbed|named|tracked as)\s+)?([A-Z][A-Za-z0-9]*(?:[ -][A-Z0-9][A-Za-z0-9]*){0,2}))");
      std::string name;
      absl::string_view in = AV(after);
      // "attributed to X" / "conducted by X": the trigger ends at "attribut" or at "by".
      std::string prefixed = absl::StrCat("by ", AV(after));
      if (!RE2::PartialMatch(after, kName, &name) &&
          !(lower_before.size() >= 2 && absl::EndsWith(lower_before, "by") &&
            RE2::PartialMatch(prefixed, kName, &name))) {
        (void)in;
        return;
      }
      // Try the longest actor-looking prefix ("Lazarus Group" in "Lazarus Group In").
      while (!name.empty() && !LooksLikeActorName(name)) {
        size_t sp = name.find_last_of(" -");
        if (sp == std::string::npos) {
          name.clear();
        } else {
          name.resize(sp);
        }
      }
      if (name.empty()) return;
      actor_name = name;
      name_pos = static_cast<size_t>(after.find(name)) + end;
    }
    for (const StatedAttribution& a : result_.attributions) {
      if (!actor_id.empty() ? a.actor_id == actor_id : a.actor_name == actor_name) return;
    }
    StatedAttribution a;
    a.actor_name = actor_name;
    a.actor_id = actor_id;
    a.confidence = StatedConfidence(sentence);
    a.location = layout_.Location(name_pos);
    std::string s = std::string(absl::StripAsciiWhitespace(AV(sentence)));
    for (char& c : s) {
      if (c == '\n' || c == '\t' || c == '\f') c = ' ';
    }
    if (s.size() > 200) s = s.substr(0, 197) + "...";
    a.sentence = std::move(s);
    result_.attributions.push_back(std::move(a));
  }

  // A report whose title names exactly one actor attributes itself to it.
  void TitleAttribution() {
    if (catalog_ == nullptr || doc_.title.empty()) return;
    std::vector<NameHit> hits = FindNames(*catalog_, doc_.title);
    const NameHit* only = nullptr;
    for (const NameHit& h : hits) {
      if (catalog_->entries()[h.entry].kind != NameCatalog::Kind::kActor) continue;
      if (only != nullptr &&
          catalog_->entries()[only->entry].id != catalog_->entries()[h.entry].id) {
        return;
      }
      only = &h;
    }
    if (only == nullptr) return;
    const NameCatalog::Entry& en = catalog_->entries()[only->entry];
    for (const StatedAttribution& a : result_.attributions) {
      if (a.actor_id == en.id) return;
    }
    StatedAttribution a;
    a.actor_name = doc_.title.substr(only->begin, only->end - only->begin);
    a.actor_id = en.id;
    a.location = "title";
    a.sentence = doc_.title.size() > 200 ? doc_.title.substr(0, 197) + "..." : doc_.title;
    result_.attributions.push_back(std::move(a));
  }

  // The first TLP marking; `end` is where the first "TLP" ends.
  void Tlp(size_t end) {
    if (auto tlp = TlpMarkingIn(text_.substr(end - 3, 40))) result_.tlp = TlpName(*tlp);
  }

  const Document& doc_;
  std::string_view text_;
  Layout layout_;
  const NameCatalog* catalog_;
  const ExtractOptions& options_;
  const Checks& checks_;
  Result result_;
  absl::flat_hash_map<std::string, size_t> index_;  // finding key (SetKey) -> indicators index
  std::string key_;
  mutable std::string window_;  // ContextAt's sentence window (reused)
  // Tokens found not to be indicators from the token alone, with the rejection to repeat (value
  // and reason; an empty reason is a silent drop). Bounded so that hostile input cannot grow it.
  struct Verdict {
    std::string value;
    std::string reason;
  };
  static constexpr size_t kMaxRememberedTokens = 1 << 14;
  static constexpr size_t kMaxRememberedTokenBytes = 256;
  absl::flat_hash_map<std::string, Verdict> not_indicators_;
  std::vector<NameHit> name_hits_;
  absl::flat_hash_set<size_t> seen_sentences_;
};

}  // namespace

Result ExtractWith(const Document& doc, const NameCatalog* catalog, const ExtractOptions& options,
                   const Checks& checks) {
  return Engine(doc, catalog, options, checks).Run();
}

size_t CountCandidates(std::string_view text) {
  size_t n = 0;
  CandidatePatterns().Scan(text, [&n](unsigned, size_t) { ++n; });
  return n;
}

std::string GuessTitle(std::string_view text) {
  std::string_view first;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = SV(absl::StripAsciiWhitespace(AV(text.substr(pos, nl - pos))));
    while (!line.empty() && line.front() == '\f') line.remove_prefix(1);
    if (!line.empty() && line.front() == '#') {
      while (!line.empty() && line.front() == '#') line.remove_prefix(1);
      return std::string(absl::StripAsciiWhitespace(AV(line.substr(0, 200))));
    }
    if (first.empty() && !line.empty() && line.substr(0, 3) != "---") first = line;
    pos = nl + 1;
    if (pos > 64 * 1024) break;
  }
  return std::string(first.substr(0, 200));
}

}  // namespace kinship::extract::internal
