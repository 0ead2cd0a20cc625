// The ingest driver: format detection, dispatch to the per-format parsers, files, folders and
// MISP feed folders, provenance.
#include "kinship/ingest.h"

#include <simdjson.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <new>
#include <optional>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "ingest/ioclist/technique_id.h"
#include "kinship/limits.h"
#include "kinship/normalize.h"
#include "kinship/parallel.h"
#include "util/sha256.h"

namespace kinship::ingest {
namespace fs = std::filesystem;

namespace {

constexpr std::pair<Format, std::string_view> kFormatNames[] = {
    {Format::kAuto, "auto"}, {Format::kMisp, "misp"}, {Format::kStix, "stix"},
    {Format::kText, "text"}, {Format::kCsv, "csv"},   {Format::kReport, "report"},
};

std::string_view SkipSpaceAndBom(std::string_view s) {
  if (s.substr(0, 3) == "\xEF\xBB\xBF") s.remove_prefix(3);
  while (!s.empty() && absl::ascii_isspace(static_cast<unsigned char>(s.front()))) {
    s.remove_prefix(1);
  }
  return s;
}

bool HasExtension(std::string_view file, std::string_view ext) {
  return absl::EndsWithIgnoreCase(AV(file), AV(ext));
}

// True when most of the first non-comment lines are single values of a known indicator type.
bool LooksLikeIocList(std::string_view content) {
  int values = 0, lines = 0;
  for (absl::string_view l : absl::StrSplit(AV(content.substr(0, 64 * 1024)), '\n')) {
    std::string_view line = SV(absl::StripAsciiWhitespace(l));
    if (line.empty() || line.front() == '#') continue;
    if (++lines > 50) break;
    if (line.find(' ') != std::string_view::npos && line.find('\t') == std::string_view::npos) {
      continue;
    }
    std::string_view first = line.substr(0, line.find('\t'));
    if (normalize::DetectType(normalize::Refang(first)) || internal::IsTechniqueId(first)) {
      ++values;
    }
  }
  return lines > 0 && values * 5 >= lines * 4;
}

bool LooksLikeCsvHeader(std::string_view content) {
  std::string_view first = content.substr(0, content.find('\n'));
  if (first.find(',') == std::string_view::npos) return false;
  for (absl::string_view col : absl::StrSplit(AV(first), ',')) {
    std::string c = absl::AsciiStrToLower(absl::StripAsciiWhitespace(col));
    c.erase(std::remove(c.begin(), c.end(), '"'), c.end());
    if (c == "value" || c == "indicator" || c == "ioc" || c == "observable" || c == "ioc_value" ||
        c == "indicator_value") {
      return true;
    }
  }
  return false;
}

// Out of memory while reading one input fails that input, named as any other failure is, and the
// caller's transaction rolls back. Left to propagate, std::bad_alloc would end the process from
// the worker thread that parses the file, naming nothing.
absl::Status OutOfMemory(std::string_view file, std::optional<uintmax_t> bytes) {
  return absl::ResourceExhaustedError(
      absl::StrCat(AV(file), ": out of memory while reading it",
                   bytes ? absl::StrCat(" (", *bytes, " bytes)") : std::string()));
}

absl::StatusOr<std::string> ReadFile(const fs::path& path) {
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  if (ec) return absl::NotFoundError(absl::StrCat(path.string(), ": ", ec.message()));
  if (size > limits::kMaxInputFileBytes) {
    return absl::ResourceExhaustedError(absl::StrCat(path.string(), ": file is ", size,
                                                     " bytes, over kMaxInputFileBytes (",
                                                     limits::kMaxInputFileBytes, ")"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path.string(), ": cannot open"));
  std::string data(size, '\0');
  in.read(data.data(), static_cast<std::streamsize>(size));
  if (static_cast<size_t>(in.gcount()) != size) {
    return absl::DataLossError(absl::StrCat(path.string(), ": short read"));
  }
  return data;
}

// A MISP feed folder: manifest.json maps event uuids to metadata; events are <uuid>.json.
absl::StatusOr<std::vector<InputFile>> ListMispFeed(const fs::path& dir) {
  const fs::path manifest_path = dir / "manifest.json";
  KINSHIP_ASSIGN_OR_RETURN(std::string manifest, ReadFile(manifest_path));
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto err = parser.parse(manifest).get(root); err) {
    return absl::InvalidArgumentError(
        absl::StrCat(manifest_path.string(), ": not valid JSON: ", simdjson::error_message(err)));
  }
  simdjson::dom::object obj;
  if (root.get(obj) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(
        absl::StrCat(manifest_path.string(), ": a MISP feed manifest is an object of event uuids"));
  }
  std::vector<std::string> uuids;
  for (auto field : obj) {
    uuids.emplace_back(field.key);
    if (uuids.size() > limits::kMaxFeedEvents) {
      return absl::ResourceExhaustedError(
          absl::StrCat(manifest_path.string(), ": more events than kMaxFeedEvents"));
    }
  }
  std::vector<InputFile> events;
  events.reserve(uuids.size());
  for (const std::string& uuid : uuids) {
    if (uuid.find('/') != std::string::npos || uuid.find("..") != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat(manifest_path.string(), ": invalid event uuid '", uuid, "'"));
    }
    fs::path event = dir / (uuid + ".json");
    if (!fs::exists(event)) {
      return absl::InvalidArgumentError(absl::StrCat(manifest_path.string(), ": lists event ", uuid,
                                                     " but ", event.string(), " is missing"));
    }
    events.push_back({event.string(), Format::kMisp});
  }
  return events;
}

// A MISP feed's manifest.json is an object keyed by event uuid (other tools' manifests are not).
bool IsMispFeed(const fs::path& dir) {
  std::ifstream in(dir / "manifest.json", std::ios::binary);
  if (!in) return false;
  char head[256] = {};
  in.read(head, sizeof head - 1);
  std::string_view s = SkipSpaceAndBom(std::string_view(head, static_cast<size_t>(in.gcount())));
  return !s.empty() && s.front() == '{';
}

}  // namespace

std::string_view FormatName(Format f) {
  for (const auto& [format, name] : kFormatNames) {
    if (format == f) return name;
  }
  return "auto";
}

std::optional<Format> FormatFromName(std::string_view name) {
  for (const auto& [format, n] : kFormatNames) {
    if (n == name) return format;
  }
  return std::nullopt;
}

Format DetectFormat(std::string_view content, std::string_view file_name) {
  std::string_view s = SkipSpaceAndBom(content);
  if (content.substr(0, 4) == "%PDF") return Format::kReport;
  if (!s.empty() && (s.front() == '{' || s.front() == '[')) {
    std::string_view head = s.substr(0, 4096);
    if (absl::StrContains(AV(head), "\"Event\"") || absl::StrContains(AV(head), "\"response\"")) {
      return Format::kMisp;
    }
    if (absl::StrContains(AV(head), "\"spec_version\"") ||
        absl::StrContains(AV(head), "\"bundle\"") ||
        absl::StrContains(AV(s.substr(0, 1 << 20)), "\"type\": \"bundle\"")) {
      return Format::kStix;
    }
    if (absl::StrContains(AV(head), "\"Attribute\"") || absl::StrContains(AV(head), "\"info\"")) {
      return Format::kMisp;
    }
    if (absl::StrContains(AV(head), "\"type\"") && absl::StrContains(AV(head), "--")) {
      return Format::kStix;
    }
    return Format::kMisp;
  }
  if (!s.empty() && s.front() == '<') return Format::kReport;
  if (HasExtension(file_name, ".html") || HasExtension(file_name, ".htm") ||
      HasExtension(file_name, ".pdf") || HasExtension(file_name, ".md")) {
    return Format::kReport;
  }
  if (HasExtension(file_name, ".csv") || LooksLikeCsvHeader(s)) return Format::kCsv;
  if (LooksLikeIocList(s)) return Format::kText;
  return Format::kReport;
}

absl::StatusOr<ParseOutput> ParseBuffer(std::string_view content, std::string_view file,
                                        const Options& options) try {
  Format format = options.format == Format::kAuto ? DetectFormat(content, file) : options.format;
  absl::StatusOr<ParseOutput> out;
  switch (format) {
    case Format::kMisp:
      out = ParseMisp(content, file, options);
      break;
    case Format::kStix:
      out = ParseStix(content, file, options);
      break;
    case Format::kText:
      out = ParseIocList(content, file, options, /*csv=*/false);
      break;
    case Format::kCsv:
      out = ParseIocList(content, file, options, /*csv=*/true);
      break;
    case Format::kReport:
    case Format::kAuto:
      out = ParseReport(content, file, options);
      break;
  }
  if (!out.ok()) return out.status();
  for (Incident& inc : out->incidents) {
    if (inc.provenance.file.empty()) inc.provenance.file = std::string(file);
    if (inc.provenance.format.empty()) inc.provenance.format = std::string(FormatName(format));
  }
  return out;
} catch (const std::bad_alloc&) {
  return OutOfMemory(file, content.size());
}

absl::StatusOr<std::vector<InputFile>> ListInputs(const std::string& path) {
  std::error_code ec;
  const fs::path p(path);
  if (!fs::exists(p, ec)) return absl::NotFoundError(absl::StrCat(path, ": no such file"));
  if (!fs::is_directory(p, ec)) return std::vector<InputFile>{{path, Format::kAuto}};
  if (IsMispFeed(p)) return ListMispFeed(p);
  // A folder of inputs: every regular, non-hidden file beneath it, in name order.
  std::vector<fs::path> files;
  for (auto it = fs::recursive_directory_iterator(p, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!name.empty() && name.front() == '.') {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file()) files.push_back(it->path());
  }
  if (ec) return absl::NotFoundError(absl::StrCat(path, ": ", ec.message()));
  std::sort(files.begin(), files.end());
  std::vector<InputFile> out;
  out.reserve(files.size());
  for (const fs::path& f : files) out.push_back({f.string(), Format::kAuto});
  return out;
}

absl::StatusOr<ParseOutput> ParseInput(const InputFile& input, const Options& options) try {
  KINSHIP_ASSIGN_OR_RETURN(std::string data, ReadFile(input.path));
  const std::string& file = input.path;
  Options opts = options;
  if (input.format != Format::kAuto) opts.format = input.format;
  if (opts.format == Format::kAuto) opts.format = DetectFormat(data, file);
  const Format format = opts.format;
  const std::string sha = util::Sha256Hex(data);
  if (opts.stored_whole) {
    if (const size_t stored = opts.stored_whole(sha, format); stored > 0) {
      ParseOutput unchanged;
      unchanged.unchanged_incidents = stored;
      return unchanged;
    }
  }
  KINSHIP_ASSIGN_OR_RETURN(ParseOutput out, ParseBuffer(data, file, opts));
  for (Incident& inc : out.incidents) {
    inc.provenance.file = file;
    inc.provenance.format = std::string(FormatName(format));
    inc.provenance.sha256 = sha;
    inc.provenance.file_incidents = out.incidents.size();
  }
  return out;
} catch (const std::bad_alloc&) {
  std::error_code ec;
  const uintmax_t bytes = fs::file_size(input.path, ec);
  return OutOfMemory(input.path, ec ? std::nullopt : std::optional<uintmax_t>(bytes));
}

absl::StatusOr<ParseOutput> ParsePath(const std::string& path, const Options& options) {
  KINSHIP_ASSIGN_OR_RETURN(std::vector<InputFile> inputs, ListInputs(path));
  // Files are independent: parsed on the worker threads, joined in the listed order; the first
  // failing file in that order decides the error, as a serial loop would.
  std::vector<absl::StatusOr<ParseOutput>> parsed(inputs.size());
  util::ParallelFor(inputs.size(), [&](size_t i) { parsed[i] = ParseInput(inputs[i], options); });
  ParseOutput out;
  for (absl::StatusOr<ParseOutput>& one : parsed) {
    if (!one.ok()) return one.status();
    for (Incident& inc : one->incidents) out.incidents.push_back(std::move(inc));
    for (Diagnostic& d : one->diagnostics) out.diagnostics.push_back(std::move(d));
  }
  return out;
}

}  // namespace kinship::ingest
