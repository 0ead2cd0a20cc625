// Reading MISP warninglists (lists/<name>/list.json). simdjson is used only in this file.
#include <simdjson.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "kinship/limits.h"
#include "kinship/warninglist.h"

namespace kinship {
namespace {

absl::Status Bad(std::string_view file, std::string_view path, std::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(AV(file), ": ", AV(path), ": ", AV(why)));
}

bool KnownType(std::string_view t) {
  return t == "string" || t == "substring" || t == "hostname" || t == "cidr" || t == "regex";
}

absl::StatusOr<std::vector<std::string>> StringArray(simdjson::dom::element e,
                                                     std::string_view file, std::string_view key) {
  simdjson::dom::array arr;
  if (e.get_array().get(arr) != simdjson::SUCCESS) return Bad(file, key, "not an array");
  std::vector<std::string> out;
  out.reserve(arr.size());
  size_t i = 0;
  for (simdjson::dom::element item : arr) {
    std::string_view s;
    if (item.get_string().get(s) != simdjson::SUCCESS) {
      return Bad(file, absl::StrCat(AV(key), "[", i, "]"), "not a string");
    }
    out.emplace_back(s);
    ++i;
  }
  return out;
}

}  // namespace

absl::StatusOr<Warninglist> ParseWarninglist(std::string_view json, std::string_view name,
                                             std::string_view file) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto err = parser.parse(simdjson::padded_string(json)).get(root); err != simdjson::SUCCESS) {
    return Bad(file, "$", absl::StrCat("malformed JSON: ", simdjson::error_message(err)));
  }
  simdjson::dom::object obj;
  if (root.get_object().get(obj) != simdjson::SUCCESS) return Bad(file, "$", "not an object");
  Warninglist w;
  w.name = std::string(name);
  std::string_view s;
  simdjson::dom::element e;
  if (obj["name"].get(e) != simdjson::SUCCESS) return Bad(file, "name", "missing");
  if (e.get_string().get(s) != simdjson::SUCCESS) return Bad(file, "name", "not a string");
  w.title = std::string(s);
  if (obj["type"].get(e) != simdjson::SUCCESS) return Bad(file, "type", "missing");
  if (e.get_string().get(s) != simdjson::SUCCESS) return Bad(file, "type", "not a string");
  if (!KnownType(s)) {
    return Bad(file, "type",
               absl::StrCat("unknown list type \"", AV(s),
                            "\" (expected string, substring, hostname, cidr or regex)"));
  }
  w.type = std::string(s);
  if (obj["version"].get(e) == simdjson::SUCCESS) {
    int64_t v = 0;
    if (e.get_int64().get(v) != simdjson::SUCCESS) return Bad(file, "version", "not an integer");
    w.version = static_cast<int>(v);
  }
  if (obj["list"].get(e) != simdjson::SUCCESS) return Bad(file, "list", "missing");
  KINSHIP_ASSIGN_OR_RETURN(w.entries, StringArray(e, file, "list"));
  if (obj["matching_attributes"].get(e) == simdjson::SUCCESS) {
    KINSHIP_ASSIGN_OR_RETURN(w.matching_attributes, StringArray(e, file, "matching_attributes"));
  }
  return w;
}

absl::StatusOr<std::vector<Warninglist>> LoadWarninglistDir(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path root(dir);
  if (fs::is_directory(root / "lists", ec)) root /= "lists";
  if (!fs::is_directory(root, ec)) {
    return absl::NotFoundError(absl::StrCat(dir, ": not a directory"));
  }
  std::vector<fs::path> files;
  for (const fs::directory_entry& entry : fs::directory_iterator(root, ec)) {
    fs::path list = entry.path() / "list.json";
    if (entry.is_directory(ec) && fs::is_regular_file(list, ec)) files.push_back(list);
  }
  if (ec) return absl::NotFoundError(absl::StrCat(dir, ": ", ec.message()));
  if (files.empty()) {
    return absl::NotFoundError(absl::StrCat(dir, ": no <name>/list.json warninglist found"));
  }
  std::sort(files.begin(), files.end());
  std::vector<Warninglist> out;
  out.reserve(files.size());
  for (const fs::path& f : files) {
    const std::string file = f.string();
    if (fs::file_size(f, ec) > limits::kMaxInputFileBytes) {
      return absl::InvalidArgumentError(absl::StrCat(file, ": larger than kMaxInputFileBytes (",
                                                     limits::kMaxInputFileBytes, ")"));
    }
    std::ifstream in(f, std::ios::binary);
    if (!in) return absl::NotFoundError(absl::StrCat(file, ": cannot open"));
    std::ostringstream ss;
    ss << in.rdbuf();
    KINSHIP_ASSIGN_OR_RETURN(Warninglist w,
                             ParseWarninglist(ss.str(), f.parent_path().filename().string(), file));
    out.push_back(std::move(w));
  }
  return out;
}

}  // namespace kinship
