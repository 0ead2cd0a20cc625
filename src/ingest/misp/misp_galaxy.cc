#include "ingest/misp/misp_galaxy.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "kinship/status.h"

namespace kinship::ingest::internal {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// "T1566", "T1566.002", "S0023", "G0007" with the expected prefix letter.
bool IsAttackId(std::string_view s, char letter) {
  if (s.size() != 5 && s.size() != 9) return false;
  if (absl::ascii_toupper(static_cast<unsigned char>(s[0])) != letter) return false;
  for (size_t i = 1; i < 5; ++i) {
    if (!IsDigit(s[i])) return false;
  }
  if (s.size() == 9) {
    if (s[5] != '.' || !IsDigit(s[6]) || !IsDigit(s[7]) || !IsDigit(s[8])) return false;
  }
  return true;
}

std::string Upper(std::string_view s) { return absl::AsciiStrToUpper(AV(s)); }

// The galaxy families, by the type names MISP has used over the years: current
// ("mitre-attack-pattern") and the pre-2019 per-matrix ones ("mitre-enterprise-attack-...").
bool IsMitre(std::string_view type, std::string_view what) {
  return absl::StartsWith(AV(type), "mitre-") && absl::EndsWith(AV(type), AV(what));
}

bool IsMalwareFamilyGalaxy(std::string_view type) {
  static constexpr std::string_view kFamilies[] = {"malpedia", "rat",     "ransomware", "backdoor",
                                                   "banker",   "stealer", "botnet",     "android"};
  return std::find(std::begin(kFamilies), std::end(kFamilies), type) != std::end(kFamilies);
}

void AddAttribution(Incident& inc, std::string name, std::string id, std::string_view galaxy,
                    std::string_view location) {
  std::string source = absl::StrCat("MISP galaxy ", AV(galaxy));
  for (const Attribution& a : inc.attributions) {
    if (a.source == source && absl::EqualsIgnoreCase(a.actor_name, name)) return;
  }
  Attribution a;
  a.actor_name = std::move(name);
  a.actor_id = std::move(id);
  a.source = std::move(source);
  a.location = std::string(location);
  inc.attributions.push_back(std::move(a));
}

void AddTechnique(Incident& inc, std::string name, std::string id, std::string_view location) {
  for (const Technique& t : inc.techniques) {
    if (!id.empty() ? t.id == id : (t.id.empty() && t.name == name)) return;
  }
  Technique t;
  t.id = std::move(id);
  t.name = std::move(name);
  t.location = std::string(location);
  inc.techniques.push_back(std::move(t));
}

void AddSoftware(Incident& inc, std::string name, std::string id, std::string kind,
                 std::string_view location) {
  for (const Software& s : inc.software) {
    if ((!id.empty() && s.id == id) || absl::EqualsIgnoreCase(s.name, name)) return;
  }
  Software sw;
  sw.name = std::move(name);
  sw.id = std::move(id);
  sw.kind = std::move(kind);
  sw.location = std::string(location);
  inc.software.push_back(std::move(sw));
}

std::string_view StripQuotes(std::string_view v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') return v.substr(1, v.size() - 2);
  return v;
}

}  // namespace

std::pair<std::string, std::string> SplitAttackId(std::string_view value, char letter) {
  size_t dash = value.rfind(" - ");
  if (dash != std::string_view::npos) {
    std::string_view id = SV(absl::StripAsciiWhitespace(AV(value.substr(dash + 3))));
    if (IsAttackId(id, letter)) {
      return {std::string(SV(absl::StripAsciiWhitespace(AV(value.substr(0, dash))))), Upper(id)};
    }
  }
  return {std::string(value), ""};
}

void ApplyGalaxyCluster(std::string_view galaxy_type, std::string_view value,
                        std::string_view external_id, Incident& incident,
                        std::string_view location) {
  value = SV(absl::StripAsciiWhitespace(AV(value)));
  if (value.empty()) return;
  auto with_id = [&](char letter) {
    auto [name, id] = SplitAttackId(value, letter);
    if (id.empty() && IsAttackId(external_id, letter)) id = Upper(external_id);
    return std::make_pair(std::move(name), std::move(id));
  };
  if (galaxy_type == "threat-actor") {
    auto [name, id] = with_id('G');
    AddAttribution(incident, std::move(name), std::move(id), galaxy_type, location);
  } else if (IsMitre(galaxy_type, "intrusion-set")) {
    auto [name, id] = with_id('G');
    AddAttribution(incident, std::move(name), std::move(id), galaxy_type, location);
  } else if (IsMitre(galaxy_type, "attack-pattern")) {
    auto [name, id] = with_id('T');
    AddTechnique(incident, std::move(name), std::move(id), location);
  } else if (IsMitre(galaxy_type, "malware")) {
    auto [name, id] = with_id('S');
    AddSoftware(incident, std::move(name), std::move(id), "malware", location);
  } else if (IsMitre(galaxy_type, "tool")) {
    auto [name, id] = with_id('S');
    AddSoftware(incident, std::move(name), std::move(id), "tool", location);
  } else if (IsMalwareFamilyGalaxy(galaxy_type)) {
    auto [name, id] = with_id('S');
    AddSoftware(incident, std::move(name), std::move(id), "malware", location);
  } else if (galaxy_type == "tool") {
    // MISP's own "tool" galaxy lists malware and tools alike: kind unknown.
    auto [name, id] = with_id('S');
    AddSoftware(incident, std::move(name), std::move(id), "", location);
  } else if (galaxy_type == "sector") {
    if (incident.victim.sector.empty()) incident.victim.sector = std::string(value);
  } else if (galaxy_type == "target-information") {
    if (incident.victim.country.empty()) incident.victim.country = std::string(value);
  }
}

void ApplyTag(std::string_view tag, bool event_level, Incident& incident,
              std::string_view location) {
  tag = SV(absl::StripAsciiWhitespace(AV(tag)));
  if (tag.empty()) return;
  if (event_level) {
    incident.tags.emplace_back(tag);
    if (absl::StartsWithIgnoreCase(AV(tag), "tlp:")) {
      std::string level = absl::AsciiStrToLower(AV(tag.substr(4)));
      if (auto tlp = TlpFromName(level); tlp && *tlp > incident.tlp) incident.tlp = *tlp;
    }
  }
  constexpr std::string_view kGalaxyPrefix = "misp-galaxy:";
  if (!absl::StartsWith(AV(tag), AV(kGalaxyPrefix))) return;
  std::string_view rest = tag.substr(kGalaxyPrefix.size());
  size_t eq = rest.find('=');
  if (eq == std::string_view::npos) return;
  ApplyGalaxyCluster(rest.substr(0, eq), StripQuotes(rest.substr(eq + 1)), "", incident, location);
}

void ApplyStatedLikelihood(Incident& incident) {
  // MISP estimative-language taxonomy values and the midpoints of their ICD 203 ranges.
  static constexpr std::pair<std::string_view, int> kTerms[] = {
      {"almost-no-chance", 3},     {"very-unlikely", 12}, {"unlikely", 32},
      {"roughly-even-chance", 50}, {"likely", 67},        {"very-likely", 87},
      {"almost-certain", 97},
  };
  constexpr std::string_view kPrefix = "estimative-language:likelihood-probability=";
  int confidence = -1;
  for (const std::string& tag : incident.tags) {
    if (!absl::StartsWith(tag, AV(kPrefix))) continue;
    std::string_view term = StripQuotes(std::string_view(tag).substr(kPrefix.size()));
    for (const auto& [name, value] : kTerms) {
      if (term == name) confidence = value;
    }
  }
  if (confidence < 0) return;
  for (Attribution& a : incident.attributions) {
    if (a.confidence < 0) a.confidence = confidence;
  }
}

}  // namespace kinship::ingest::internal
