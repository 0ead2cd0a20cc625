// IOC lists -> one incident. Plain text: one value a line ("value<TAB>comment" allowed), '#'
// starts a comment line. CSV: a header row names the value column and optionally type, comment
// and category columns. Types come from the type column when it names one, else from
// normalize::DetectType on the refanged value. Values are kept raw; normalisation refangs them.
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ingest/ioclist/csv_reader.h"
#include "ingest/ioclist/technique_id.h"
#include "ingest/misp/misp_types.h"
#include "kinship/ingest.h"
#include "kinship/limits.h"
#include "kinship/normalize.h"
#include "util/path.h"
#include "util/sha256.h"

namespace kinship::ingest {
namespace {

std::string_view Trim(std::string_view s) { return SV(absl::StripAsciiWhitespace(AV(s))); }

bool OneOf(std::string_view name, std::initializer_list<std::string_view> names) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// A value with its type(s): usually one, two for a MISP composite type in a CSV type column.
struct Typed {
  IndicatorType type;
  std::string_view value;
};

// The type a CSV type column names: kinship's own names ("ipv4", "sha256"), MISP attribute types
// ("ip-dst", "filename|sha256"), and a few common aliases. nullopt when it names none.
std::optional<internal::MispTypeMapping> TypeFromColumn(std::string_view name) {
  std::string lower = absl::AsciiStrToLower(AV(Trim(name)));
  if (lower.empty()) return std::nullopt;
  using K = internal::MispTypeKind;
  if (auto t = IndicatorTypeFromName(lower)) {
    return internal::MispTypeMapping{K::kIndicator, *t, IndicatorType::kOther, false, false};
  }
  if (OneOf(lower, {"ip", "ip-address", "ipaddress", "ip_address", "ipv4-addr", "ipv6-addr"})) {
    return internal::MispTypeMapping{K::kIndicator, IndicatorType::kIpv4, IndicatorType::kOther,
                                     true, false};
  }
  if (OneOf(lower, {"domain-name", "fqdn", "host"})) {
    return internal::MispTypeMapping{K::kIndicator, IndicatorType::kDomain, IndicatorType::kOther,
                                     false, false};
  }
  if (OneOf(lower, {"email-addr", "e-mail"})) {
    return internal::MispTypeMapping{K::kIndicator, IndicatorType::kEmail, IndicatorType::kOther,
                                     false, false};
  }
  // MISP writes type names in lower case except "AS".
  internal::MispTypeMapping m = internal::MapMispType(lower == "as" ? "AS" : lower);
  if (m.kind == K::kIndicator || m.kind == K::kComposite) return m;
  return std::nullopt;
}

class IocListParser {
 public:
  IocListParser(std::string_view text, std::string_view file, const Options& options)
      : text_(text), file_(file), options_(options) {}

  absl::StatusOr<ParseOutput> Parse(bool csv) {
    if (text_.size() > limits::kMaxInputFileBytes) {
      return absl::ResourceExhaustedError(
          absl::StrCat(AV(file_), ": input is ", text_.size(), " bytes, over kMaxInputFileBytes"));
    }
    body_ = text_;
    if (body_.substr(0, 3) == "\xEF\xBB\xBF") body_.remove_prefix(3);  // UTF-8 BOM
    inc_.id = absl::StrCat("sha256:", util::Sha256Hex(text_));
    inc_.title = std::string(util::BaseName(file_));
    inc_.provenance.file = std::string(file_);
    inc_.provenance.format = csv ? "csv" : "text";
    KINSHIP_RETURN_IF_ERROR(csv ? ParseCsv() : ParseText());
    out_.incidents.push_back(std::move(inc_));
    return std::move(out_);
  }

 private:
  absl::Status Error(absl::StatusCode code, size_t line, size_t col, std::string_view message) {
    return absl::Status(code, absl::StrCat(AV(file_), ":", line, ":", col, ": ", AV(message)));
  }
  absl::Status BadRecord(absl::Status status, size_t line, size_t col) {
    if (!options_.skip_bad_records) return status;
    out_.diagnostics.push_back(Diagnostic{Diagnostic::Severity::kError, std::string(file_),
                                          absl::StrCat(line, ":", col),
                                          absl::StrCat("skipped: ", status.message())});
    return absl::OkStatus();
  }

  // The first TLP marking in a comment line ("# IOCs for ..., TLP:AMBER") is the list's.
  void MarkingIn(std::string_view comment) {
    if (marked_) return;
    if (auto tlp = TlpMarkingIn(comment)) {
      inc_.tlp = *tlp;
      marked_ = true;
    }
  }

  // Adds one value at line:col. `declared` is the CSV type column's reading, if any.
  absl::Status AddValue(std::string_view value, size_t line, size_t col,
                        const std::optional<internal::MispTypeMapping>& declared,
                        std::string_view declared_name, std::string_view comment,
                        std::string_view category) {
    if (value.size() > limits::kMaxIndicatorBytes) {
      return BadRecord(Error(absl::StatusCode::kResourceExhausted, line, col,
                             absl::StrCat("value longer than kMaxIndicatorBytes (",
                                          limits::kMaxIndicatorBytes, ")")),
                       line, col);
    }
    // An ATT&CK technique id ("T1566.001") is no indicator but a technique of the incident:
    // lists often carry the TTPs beside the IOCs. ingest links it to the KB.
    if (!declared && internal::IsTechniqueId(value)) {
      const std::string id = absl::AsciiStrToUpper(AV(value));
      for (const Technique& t : inc_.techniques) {
        if (t.id == id) return absl::OkStatus();
      }
      Technique t;
      t.id = id;
      t.location = absl::StrCat(line, ":", col);
      inc_.techniques.push_back(std::move(t));
      return absl::OkStatus();
    }
    Typed parts[2];
    size_t n = 0;
    if (declared && declared->kind == internal::MispTypeKind::kComposite) {
      // As in MISP: split at the last '|', except a registry value, which may itself hold '|'.
      const bool regkey = absl::EqualsIgnoreCase(AV(Trim(declared_name)), "regkey|value");
      size_t bar = regkey ? value.find('|') : value.rfind('|');
      if (bar == std::string_view::npos || bar == 0) {
        return BadRecord(Error(absl::StatusCode::kInvalidArgument, line, col,
                               "composite type needs a value 'a|b'"),
                         line, col);
      }
      std::string_view a = value.substr(0, bar), b = value.substr(bar + 1);
      parts[n++] = {declared->ip_first ? internal::IpTypeOf(a) : declared->first, a};
      if (!b.empty() && declared->second != IndicatorType::kOther) {
        parts[n++] = {declared->ip_second ? internal::IpTypeOf(b) : declared->second, b};
      }
    } else if (declared) {
      IndicatorType t = declared->first;
      if (declared->ip_first) t = internal::IpTypeOf(normalize::Refang(value));
      parts[n++] = {t, value};
    } else {
      std::optional<IndicatorType> t = normalize::DetectType(normalize::Refang(value));
      // A type column naming a kind kinship does not index (yara, text): kept, never matched.
      if (!t && !declared_name.empty()) t = IndicatorType::kOther;
      if (!t) {
        return BadRecord(Error(absl::StatusCode::kInvalidArgument, line, col,
                               absl::StrCat("cannot tell the indicator type of '",
                                            AV(value.substr(0, 80)), "'")),
                         line, col);
      }
      parts[n++] = {*t, value};
    }
    for (size_t i = 0; i < n; ++i) {
      if (inc_.indicators.size() >= limits::kMaxIndicatorsPerIncident) {
        return Error(absl::StatusCode::kResourceExhausted, line, col,
                     absl::StrCat("more than kMaxIndicatorsPerIncident (",
                                  limits::kMaxIndicatorsPerIncident, ") values"));
      }
      Indicator ind =
          Indicator::Raw(parts[i].type, std::string(parts[i].value), absl::StrCat(line, ":", col));
      ind.comment = std::string(comment);
      ind.category = std::string(category);
      inc_.indicators.push_back(std::move(ind));
    }
    return absl::OkStatus();
  }

  absl::Status ParseText() {
    size_t line_no = 0;
    std::string_view rest = body_;
    while (!rest.empty()) {
      ++line_no;
      size_t nl = rest.find('\n');
      std::string_view line = rest.substr(0, nl);
      rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      size_t start = 0;
      while (start < line.size() && absl::ascii_isspace(static_cast<unsigned char>(line[start]))) {
        ++start;
      }
      std::string_view content = line.substr(start);
      if (!content.empty() && content.front() == '#') MarkingIn(content);
      if (content.empty() || content.front() == '#') continue;
      std::string_view value = content, comment;
      if (size_t tab = content.find('\t'); tab != std::string_view::npos) {
        value = content.substr(0, tab);
        comment = Trim(content.substr(tab + 1));
      }
      value = Trim(value);
      KINSHIP_RETURN_IF_ERROR(AddValue(value, line_no, start + 1, std::nullopt, "", comment, ""));
    }
    return absl::OkStatus();
  }

  absl::Status ParseCsv() {
    // Skip leading blank and '#' comment lines to find the header, keeping line numbers right.
    std::string_view rest = body_;
    size_t skipped_lines = 0;
    while (!rest.empty()) {
      size_t nl = rest.find('\n');
      std::string_view line = Trim(rest.substr(0, nl));
      if (!line.empty() && line.front() != '#') break;
      MarkingIn(line);
      rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
      ++skipped_lines;
    }
    if (rest.empty()) {
      return Error(absl::StatusCode::kInvalidArgument, skipped_lines + 1, 1,
                   "CSV has no header row");
    }
    internal::CsvReader reader(rest, internal::DetectDelimiter(rest.substr(0, rest.find('\n'))),
                               skipped_lines + 1);
    std::vector<internal::CsvField> fields;
    auto read = [&]() -> absl::StatusOr<bool> {
      auto more = reader.Next(&fields);
      if (!more.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(AV(file_), ":", more.status().message()));
      }
      return more;
    };
    KINSHIP_ASSIGN_OR_RETURN(bool has_header, read());
    if (!has_header) {
      return Error(absl::StatusCode::kInvalidArgument, skipped_lines + 1, 1,
                   "CSV has no header row");
    }
    std::optional<size_t> value_col, type_col, comment_col, category_col;
    for (size_t i = 0; i < fields.size(); ++i) {
      std::string name = absl::AsciiStrToLower(AV(Trim(fields[i].value)));
      if (!value_col && OneOf(name, {"value", "indicator", "ioc", "observable", "ioc_value",
                                     "indicator_value", "ioc value", "indicator value"})) {
        value_col = i;
      } else if (!type_col && OneOf(name, {"type", "ioc_type", "indicator_type", "ioc type",
                                           "indicator type", "kind"})) {
        type_col = i;
      } else if (!comment_col && OneOf(name, {"comment", "description", "note", "notes"})) {
        comment_col = i;
      } else if (!category_col && name == "category") {
        category_col = i;
      }
    }
    if (!value_col) {
      return Error(absl::StatusCode::kInvalidArgument, skipped_lines + 1, 1,
                   "CSV header names no value column (value, indicator, ioc, observable, ...)");
    }
    while (true) {
      KINSHIP_ASSIGN_OR_RETURN(bool more, read());
      if (!more) break;
      const size_t line = reader.record_line();
      bool all_empty = std::all_of(fields.begin(), fields.end(),
                                   [](const auto& f) { return Trim(f.value).empty(); });
      if (all_empty) continue;
      if (fields.size() == 1 && !fields[0].value.empty() && fields[0].value.front() == '#') {
        continue;  // comment line
      }
      if (*value_col >= fields.size()) {
        KINSHIP_RETURN_IF_ERROR(
            BadRecord(Error(absl::StatusCode::kInvalidArgument, line, 1,
                            absl::StrCat("record has ", fields.size(),
                                         " fields, the value is field ", *value_col + 1)),
                      line, 1));
        continue;
      }
      const internal::CsvField& vf = fields[*value_col];
      const size_t vline = vf.line;
      std::string_view value = Trim(vf.value);
      if (value.empty()) {
        KINSHIP_RETURN_IF_ERROR(
            BadRecord(Error(absl::StatusCode::kInvalidArgument, vline, vf.col, "empty value"),
                      vline, vf.col));
        continue;
      }
      auto cell = [&](const std::optional<size_t>& c) -> std::string_view {
        return c && *c < fields.size() ? Trim(fields[*c].value) : std::string_view();
      };
      std::optional<internal::MispTypeMapping> declared;
      if (type_col) declared = TypeFromColumn(cell(type_col));
      KINSHIP_RETURN_IF_ERROR(AddValue(value, vline, vf.col, declared, cell(type_col),
                                       cell(comment_col), cell(category_col)));
    }
    return absl::OkStatus();
  }

  std::string_view text_;
  std::string_view body_;
  std::string_view file_;
  const Options& options_;
  Incident inc_;
  bool marked_ = false;  // a TLP marking was read
  ParseOutput out_;
};

}  // namespace

absl::StatusOr<ParseOutput> ParseIocList(std::string_view text, std::string_view file,
                                         const Options& options, bool csv) {
  return IocListParser(text, file, options).Parse(csv);
}

}  // namespace kinship::ingest
