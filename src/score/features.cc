// Feature extraction: an incident as a set of `namespace:value` features grouped into families
// (DESIGN.md "Evidence and similarity").
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "kinship/kb.h"
#include "kinship/similarity.h"
#include "normalize/adapters.h"
#include "normalize/internal.h"
#include "score/internal.h"
#include "util/path.h"
#include "util/stable_hash.h"
#include "util/varint.h"

namespace kinship::score {

std::string_view FamilyName(Family f) {
  switch (f) {
    case Family::kIndicator:
      return "indicator";
    case Family::kInfrastructure:
      return "infrastructure";
    case Family::kSoftware:
      return "software";
    case Family::kTechnique:
      return "technique";
    case Family::kNaming:
      return "naming";
    case Family::kVictim:
      return "victim";
    case Family::kTime:
      return "time";
    case Family::kFuzzy:
      return "fuzzy";
  }
  return "unknown";
}

namespace internal {

// The knowledge base's implementation is not part of every build yet (its engineer is writing
// it), and calling it would leave score's users unlinkable: names are matched in normalised form
// until it lands. NEEDS: switch to kb->Resolve(name, kSoftware / kTechnique) then.
std::string ResolveKbName(const kb::KnowledgeBase* kb, std::string_view name, bool software) {
  if (kb == nullptr || name.empty()) return "";
  auto matches =
      kb->Resolve(name, software ? kb::EntityType::kSoftware : kb::EntityType::kTechnique);
  // An ambiguous name is not evidence of one entity: fall back to the name itself.
  if (matches.empty() || matches.front().ambiguous) return "";
  return matches.front().id;
}

}  // namespace internal

namespace {

std::string Lower(std::string_view s) { return absl::AsciiStrToLower(AV(s)); }

// Lower-case letters and digits only: "X-Agent" and "XAgent" meet.
std::string NormaliseName(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
  }
  return out;
}

class Collector {
 public:
  void Add(Family family, std::string key, double strength = 1.0) {
    auto [it, inserted] = seen_.try_emplace(key, out_.size());
    if (inserted) {
      out_.push_back(Feature{family, std::move(key), strength});
    } else {
      out_[it->second].strength = std::max(out_[it->second].strength, strength);
    }
  }
  std::vector<Feature> Take() { return std::move(out_); }

 private:
  absl::flat_hash_map<std::string, size_t> seen_;
  std::vector<Feature> out_;
};

void AddNgrams(std::string_view text, int n, std::vector<std::string>* grams) {
  if (text.empty() || n <= 0) return;
  std::string padded = absl::StrCat("^", AV(text), "$");
  if (padded.size() < static_cast<size_t>(n)) {
    grams->push_back(padded);
    return;
  }
  for (size_t i = 0; i + n <= padded.size(); ++i) grams->push_back(padded.substr(i, n));
}

// The part of a URL after its authority (path, query), without the scheme and host.
std::string_view UrlPath(std::string_view url) {
  size_t scheme = url.find("://");
  size_t start = scheme == std::string_view::npos ? 0 : scheme + 3;
  size_t slash = url.find('/', start);
  if (slash == std::string_view::npos) return {};
  std::string_view path = url.substr(slash + 1);
  return path.substr(0, std::min<size_t>(path.size(), 200));
}

// A file name or URL path without its extension (".exe", ".php", ".docx"): the extension says
// what kind of file it is, not who named it, and in a small store its n-grams ("ng:.exe",
// "ng:exe$") would be rare enough to read as shared naming style. Only a final extension of one to
// five letters or digits after the last '/' is dropped ("a.tar.gz" keeps "a.tar"); a URL with a
// query or fragment is kept whole ("x.php?id=1").
std::string_view WithoutExtension(std::string_view name) {
  if (name.find_first_of("?#") != std::string_view::npos) return name;
  const size_t dot = name.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return name;
  const size_t slash = name.rfind('/');
  if (slash != std::string_view::npos && (dot < slash || dot == slash + 1)) return name;
  const std::string_view ext = name.substr(dot + 1);
  if (ext.empty() || ext.size() > 5) return name;
  for (char c : ext) {
    if (!std::isalnum(static_cast<unsigned char>(c))) return name;
  }
  return name.substr(0, dot);
}

// A domain's last label ("com"), or empty when it has none.
std::string_view TldOf(std::string_view domain) {
  const size_t dot = domain.rfind('.');
  return dot == std::string_view::npos ? std::string_view() : domain.substr(dot + 1);
}

// Whether a stated indicator takes part in the features at all (ExtractFeatures' filter).
bool Featured(const Indicator& ind) {
  return ind.valid() && !ind.benign() && ind.type != IndicatorType::kOther &&
         ind.derivation == Derivation::kNone;
}

// The text whose n-grams stand for a stated indicator's naming style: a domain without its TLD
// (the TLD is a feature of its own), a URL's path, a file name without its directories
// (util::BaseName: mostly the system's or an installed program's, "%PROGRAMFILES%\Google\Chrome",
// where the actor drops a file, not how it names one; their n-grams, "ng:ogra", "ng:cros", read
// as naming shared with any incident that names a program or Microsoft); the last two without
// their extension. Empty for other indicators.
// Store::Detail::kNaming reads exactly these three types (stated, not derived): a type added here
// must be added to its query too.
std::string NamingText(IndicatorType type, std::string_view value) {
  if (type == IndicatorType::kDomain) {
    size_t dot = value.rfind('.');
    if (dot == std::string_view::npos || dot + 1 >= value.size()) return "";
    return std::string(value.substr(0, dot));
  }
  if (type == IndicatorType::kUrl) return std::string(WithoutExtension(Lower(UrlPath(value))));
  if (type == IndicatorType::kFilename) {
    return std::string(WithoutExtension(Lower(util::BaseName(value))));
  }
  return "";
}
std::string NamingText(const Indicator& ind) { return NamingText(ind.type, ind.value); }

}  // namespace

NamingTexts::Entry NamingTexts::MakeEntry(IndicatorType type, std::string value) {
  Entry e;
  e.type = type;
  if (type == IndicatorType::kDomain) e.tld = TldOf(value);
  if (std::string text = NamingText(type, value); !text.empty()) {
    e.padded = absl::StrCat("^", text, "$");
  }
  e.value = std::move(value);
  return e;
}

NamingTexts::NamingTexts(const Incident& incident) {
  absl::flat_hash_set<std::string_view> seen;
  for (const Indicator& ind : incident.indicators) {
    if (!Featured(ind) || !seen.insert(ind.value).second) continue;
    Entry e = MakeEntry(ind.type, ind.value);
    if (!e.tld.empty() || !e.padded.empty()) entries_.push_back(std::move(e));
  }
}

std::string NamingTexts::Pack() const {
  std::string out;
  char len[util::kMaxVarintBytes];
  for (const Entry& e : entries_) {
    out.push_back(static_cast<char>(e.type));
    out.append(len, util::PutVarint(e.value.size(), len));
    out.append(e.value);
  }
  return out;
}

std::optional<NamingTexts> NamingTexts::Unpack(std::string_view packed) {
  NamingTexts t;
  while (!packed.empty()) {
    const auto type = static_cast<IndicatorType>(static_cast<unsigned char>(packed[0]));
    uint64_t size = 0;
    const size_t n = util::GetVarint(packed.data() + 1, packed.size() - 1, &size);
    if (n == 0 || size > packed.size() - 1 - n) return std::nullopt;
    t.entries_.push_back(MakeEntry(type, std::string(packed.substr(1 + n, size))));
    packed.remove_prefix(1 + n + size);
  }
  return t;
}

std::vector<std::string> NamingTexts::Sources(std::string_view feature, size_t limit,
                                              size_t* total) const {
  std::vector<std::string> out;
  size_t n = 0;
  const bool tld = feature.starts_with("tld:");
  if (tld || feature.starts_with("ng:")) {
    const std::string_view what = feature.substr(tld ? 4 : 3);
    for (const Entry& e : entries_) {
      const bool hit = tld ? !e.tld.empty() && e.tld == what
                           : !e.padded.empty() && e.padded.find(what) != std::string::npos;
      if (!hit) continue;
      ++n;
      if (out.size() < limit) out.push_back(e.value);
      if (total == nullptr && out.size() >= limit) break;
    }
  }
  if (total != nullptr) *total = n;
  return out;
}

std::vector<std::string> NamingSources(const Incident& incident, std::string_view feature,
                                       size_t limit) {
  return NamingTexts(incident).Sources(feature, limit);
}

// A stated network meets the addresses inside it: the /24s (IPv6: /48s) it covers are keyed
// "net:" as an address's derived network is, so 58.247.10.12 meets APT1's stated 58.246.0.0/15 on
// "net:58.247.10.0/24", and a stated /24 the addresses in it. A wider network says less of any
// one address in it: each key's strength is 1 / (1 + log2(n) / 4) for n networks covered (a /24
// or narrower 1, a /20 0.5, a /16 0.33, a /15 0.31), and one covering more than
// kMaxCoveredNetworks (wider than a /15 or a /39) adds none.
namespace {

constexpr int kMaxCoveredNetworks = 512;

void AddCoveredNetworks(std::string_view cidr, Collector& features) {
  namespace ni = normalize::internal;
  absl::StatusOr<ni::Network> net = ni::ParseCidr(cidr);
  if (!net.ok()) return;
  const int len = net->len, unit = net->ip.v6 ? 48 : 24;
  if (len >= unit) {
    features.Add(Family::kInfrastructure,
                 absl::StrCat("net:", ni::FormatIp(ni::MaskIp(net->ip, unit)), "/", unit));
    return;
  }
  const int shift = unit - len;  // log2 of the networks covered
  if ((1 << std::min(shift, 30)) > kMaxCoveredNetworks) return;
  const double strength = 1.0 / (1.0 + shift / 4.0);
  // The prefix as a big-endian number of its first `unit` bits (at most 48), then each network.
  ni::IpAddr base = net->ip;
  uint64_t prefix = 0;
  for (int b = 0; b < unit / 8; ++b) prefix = (prefix << 8) | base.bytes[b];
  for (uint64_t i = 0; i < (uint64_t{1} << shift); ++i) {
    uint64_t v = prefix + i;
    for (int b = unit / 8 - 1; b >= 0; --b, v >>= 8) base.bytes[b] = static_cast<uint8_t>(v);
    features.Add(Family::kInfrastructure, absl::StrCat("net:", ni::FormatIp(base), "/", unit),
                 strength);
  }
}

}  // namespace

std::vector<Feature> ExtractFeatures(const Incident& incident, const kb::KnowledgeBase* kb,
                                     const ScoringOptions& options) {
  Collector features;
  std::vector<std::string> grams;
  // One host in different roles meets itself (a stated domain, a URL's host, a sender's domain):
  // a domain that is its own registered domain is keyed "regdom:" whatever its role, and a
  // subdomain by its role ("host:", "maildom:") beside its derived "regdom:" of the registered
  // domain. So "update.evil.com", "evil.com" and "x@evil.com" meet on "regdom:evil.com", with
  // no more features than one per role. Derive() adds a registered domain only when it differs
  // from the domain (normalize/derive.cc): a domain none of whose parents was derived is its own.
  absl::flat_hash_set<std::string_view> registered;
  for (const Indicator& ind : incident.indicators) {
    if (ind.valid() && ind.derivation == Derivation::kRegisteredDomain)
      registered.insert(ind.value);
  }
  auto add_domain = [&](std::string_view role, std::string_view domain) {
    for (size_t dot = domain.find('.'); dot != std::string_view::npos;
         dot = domain.find('.', dot + 1)) {
      if (registered.contains(domain.substr(dot + 1))) {
        features.Add(Family::kInfrastructure, absl::StrCat(AV(role), AV(domain)));
        return;
      }
    }
    features.Add(Family::kInfrastructure, absl::StrCat("regdom:", AV(domain)));
  };
  for (const Indicator& ind : incident.indicators) {
    if (!ind.valid() || ind.benign() || ind.type == IndicatorType::kOther) continue;
    switch (ind.derivation) {
      case Derivation::kNone:
        features.Add(Family::kIndicator,
                     absl::StrCat(AV(IndicatorTypeName(ind.type)), ":", ind.value));
        break;
      case Derivation::kRegisteredDomain:
        features.Add(Family::kInfrastructure, absl::StrCat("regdom:", ind.value));
        continue;
      case Derivation::kNetwork:
        features.Add(Family::kInfrastructure, absl::StrCat("net:", ind.value));
        continue;
      case Derivation::kUrlHost:
        if (ind.type == IndicatorType::kDomain) {
          add_domain("host:", ind.value);
        } else {
          // A URL's address is the address, as stated: it meets the same address stated alone.
          features.Add(Family::kIndicator,
                       absl::StrCat(AV(IndicatorTypeName(ind.type)), ":", ind.value));
        }
        continue;
      case Derivation::kEmailDomain:
        add_domain("maildom:", ind.value);
        continue;
    }
    // Stated values only from here: networks and domains as infrastructure, and naming style.
    if (ind.type == IndicatorType::kCidr) AddCoveredNetworks(ind.value, features);
    if (ind.type == IndicatorType::kDomain) {
      add_domain("host:", ind.value);
      if (const std::string_view tld = TldOf(ind.value); !tld.empty()) {
        features.Add(Family::kNaming, absl::StrCat("tld:", AV(tld)));
      }
    }
    AddNgrams(NamingText(ind), options.ngram, &grams);
  }
  // Consistent bottom-k sample of the n-grams (smallest stable hashes), as in MinHash sketches
  // (Broder 1997): two incidents with the same names keep the same n-grams.
  std::sort(grams.begin(), grams.end());
  grams.erase(std::unique(grams.begin(), grams.end()), grams.end());
  std::vector<std::pair<uint64_t, size_t>> by_hash;
  by_hash.reserve(grams.size());
  for (size_t i = 0; i < grams.size(); ++i) {
    by_hash.emplace_back(util::StableHash(grams[i]), i);
  }
  std::sort(by_hash.begin(), by_hash.end());
  for (size_t i = 0; i < by_hash.size() && i < options.max_naming_features; ++i) {
    features.Add(Family::kNaming, absl::StrCat("ng:", grams[by_hash[i].second]));
  }

  for (const Software& sw : incident.software) {
    std::string id = sw.id.empty() ? internal::ResolveKbName(kb, sw.name, true) : sw.id;
    std::string value = id.empty() ? NormaliseName(sw.name) : absl::AsciiStrToUpper(id);
    if (!value.empty()) features.Add(Family::kSoftware, absl::StrCat("soft:", value));
  }
  for (const Technique& t : incident.techniques) {
    std::string id = absl::AsciiStrToUpper(t.id);
    if (id.empty()) id = internal::ResolveKbName(kb, t.name, false);
    if (id.empty()) continue;
    features.Add(Family::kTechnique, absl::StrCat("tech:", id));
    // A sub-technique also credits its parent, more weakly; a technique credits itself there,
    // so T1566 and T1566.001 meet on "techp:T1566".
    std::string parent = id.substr(0, id.find('.'));
    features.Add(Family::kTechnique, absl::StrCat("techp:", parent), internal::kParentStrength);
  }
  std::string sector = Lower(incident.victim.sector);
  std::string country = Lower(incident.victim.country);
  if (!sector.empty()) features.Add(Family::kVictim, absl::StrCat("sector:", sector));
  if (!country.empty()) features.Add(Family::kVictim, absl::StrCat("country:", country));
  return features.Take();
}

}  // namespace kinship::score
