// Name matching (techniques, software, actors) with one Hyperscan literal database per catalog.
#include <algorithm>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "extract/extract_internal.h"
#include "kinship/status.h"

namespace kinship::extract {
namespace {

// Names that are ordinary words when written in a report ("Net", "Page"); shorter names than
// kMinNameBytes are dropped too ("at", "Tor", "cmd").
constexpr size_t kMinNameBytes = 4;
constexpr std::string_view kStopNames[] = {"net",
                                           "ping",
                                           "page",
                                           "expand",
                                           "route",
                                           "reg",
                                           "cmd",
                                           "tasklist",
                                           "systeminfo",
                                           "whoami",
                                           "netstat",
                                           "ipconfig",
                                           "nltest",
                                           "dsquery",
                                           "schtasks",
                                           "sc",
                                           "at",
                                           "ftp",
                                           "tor",
                                           "wevtutil",
                                           "attrib",
                                           "certutil",
                                           "forfiles",
                                           "esentutl",
                                           "xcopy",
                                           "robocopy",
                                           "ssh",
                                           "sdelete",
                                           "more",
                                           "link",
                                           "cobalt",
                                           "default",
                                           "remote",
                                           "agent",
                                           "shell",
                                           "proxy",
                                           "backdoor",
                                           "trojan",
                                           "loader",
                                           "dropper",
                                           "wiper",
                                           "ransomware",
                                           "stealer",
                                           "keylogger",
                                           "rootkit",
                                           "botnet",
                                           "miner",
                                           "group",
                                           "team",
                                           "unknown",
                                           "none",
                                           "other",
                                           "windows",
                                           "linux",
                                           "android",
                                           "python",
                                           "powershell",
                                           "javascript",
                                           "visual basic",
                                           "dns",
                                           "ssh",
                                           "local account",
                                           "domain account",
                                           "cloud accounts",
                                           "default accounts",
                                           "web protocols",
                                           "file transfer protocols",
                                           "mail protocols",
                                           "exfiltration",
                                           "discovery",
                                           "execution",
                                           "persistence",
                                           "collection",
                                           "impact",
                                           "masquerading",
                                           "phishing",
                                           "office",
                                           "services",
                                           "spearphishing",
                                           "scheduled task",
                                           "scripting",
                                           "data",
                                           "sandworm",
                                           "pony"};

bool IsWordChar(char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_'; }

bool Stopped(const std::string& name) {
  std::string lower = absl::AsciiStrToLower(name);
  return std::find(std::begin(kStopNames), std::end(kStopNames), lower) != std::end(kStopNames);
}

}  // namespace

NameCatalog::NameCatalog(std::vector<Entry> entries) : impl_(std::make_unique<Impl>()) {
  impl_->entries = std::move(entries);
  // A name shared by two entities of one kind is ambiguous and never matched.
  absl::flat_hash_map<std::string, size_t> owner;  // kind+name -> entry
  absl::flat_hash_set<std::string> ambiguous;
  for (size_t i = 0; i < impl_->entries.size(); ++i) {
    const Entry& e = impl_->entries[i];
    absl::flat_hash_set<std::string> mine;
    for (const std::string& n : e.names) {
      std::string name(absl::StripAsciiWhitespace(n));
      if (name.size() < kMinNameBytes || Stopped(name) || !mine.insert(name).second) continue;
      std::string key = std::to_string(static_cast<int>(e.kind)) + "\t" + name;
      auto [it, inserted] = owner.emplace(key, i);
      if (!inserted && impl_->entries[it->second].id != e.id) ambiguous.insert(key);
    }
  }
  std::vector<internal::PatternSet::Pattern> literals;
  for (const auto& [key, entry] : owner) {
    if (ambiguous.contains(key)) continue;
    std::string name = key.substr(key.find('\t') + 1);
    literals.push_back({name, static_cast<unsigned>(impl_->names.size()), false});
    impl_->names.push_back({entry, std::move(name)});
  }
  auto set = internal::PatternSet::CompileLiterals(literals);
  if (set.ok()) impl_->set = std::move(*set);
}

NameCatalog::~NameCatalog() = default;
NameCatalog::NameCatalog(NameCatalog&&) noexcept = default;
NameCatalog& NameCatalog::operator=(NameCatalog&&) noexcept = default;

const std::vector<NameCatalog::Entry>& NameCatalog::entries() const { return impl_->entries; }
size_t NameCatalog::pattern_count() const { return impl_->names.size(); }

namespace internal {

std::vector<NameHit> FindNames(const NameCatalog& catalog, std::string_view text) {
  const NameCatalog::Impl& impl = catalog.impl();
  std::vector<NameHit> hits;
  impl.set.Scan(text, [&](unsigned id, size_t end) {
    const auto& n = impl.names[id];
    size_t begin = end - n.text.size();
    // Whole words only: "Turla" not in "Turlapath", "APT1" not in "APT10".
    if (begin > 0 && IsWordChar(text[begin - 1]) && IsWordChar(n.text.front())) return;
    if (end < text.size() && IsWordChar(text[end]) && IsWordChar(n.text.back())) return;
    hits.push_back({begin, end, n.entry});
  });
  // Longest first at each start; drop hits inside an accepted one. The same words naming
  // entities of different kinds are all kept, since the text may mean either: "Sofacy" is APT28
  // and an alias of its CORESHELL downloader, and keeping only one (whichever sorted first) read
  // every "Sofacy" as the software, so that a title naming Sofacy and Turla named Turla alone.
  std::sort(hits.begin(), hits.end(), [](const NameHit& a, const NameHit& b) {
    if (a.begin != b.begin) return a.begin < b.begin;
    return a.end != b.end ? a.end > b.end : a.entry < b.entry;
  });
  const auto& entries = catalog.entries();
  std::vector<NameHit> out;
  size_t covered = 0, span_start = 0;  // out[span_start..] cover the last accepted span
  for (const NameHit& h : hits) {
    if (!out.empty() && h.begin < covered) {
      if (h.begin != out.back().begin || h.end != out.back().end) continue;
      bool new_kind = true;
      for (size_t i = span_start; i < out.size(); ++i) {
        new_kind = new_kind && entries[out[i].entry].kind != entries[h.entry].kind;
      }
      if (new_kind) out.push_back(h);
      continue;
    }
    span_start = out.size();
    out.push_back(h);
    covered = h.end;
  }
  return out;
}

}  // namespace internal
}  // namespace kinship::extract
