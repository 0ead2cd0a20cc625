// Derived indicators and whole-incident normalisation (see normalize.h).
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "kinship/normalize.h"
#include "normalize/adapters.h"
#include "normalize/internal.h"

namespace kinship::normalize {
namespace {

Indicator DerivedFrom(const Indicator& from, IndicatorType type, std::string value,
                      Derivation derivation) {
  Indicator d;
  d.type = type;
  d.value = std::move(value);
  d.raw = from.value;
  d.derivation = derivation;
  d.to_ids = from.to_ids;
  d.category = from.category;
  d.location = from.location;
  return d;
}

void AddRegisteredDomain(const Indicator& from, std::string_view domain,
                         std::vector<Indicator>* out) {
  std::optional<std::string> reg = RegisteredDomain(domain);
  if (reg && *reg != domain) {
    out->push_back(
        DerivedFrom(from, IndicatorType::kDomain, std::move(*reg), Derivation::kRegisteredDomain));
  }
}

void AddNetwork(const Indicator& from, const internal::IpAddr& ip, std::vector<Indicator>* out) {
  const int len = ip.v6 ? 48 : 24;
  out->push_back(DerivedFrom(from, IndicatorType::kCidr,
                             absl::StrCat(internal::FormatIp(internal::MaskIp(ip, len)), "/", len),
                             Derivation::kNetwork));
}

std::string Excerpt(std::string_view s) {
  constexpr size_t kMax = 80;
  if (s.size() <= kMax) return std::string(s);
  return absl::StrCat(AV(s.substr(0, kMax)), "...");
}

struct Key {
  IndicatorType type;
  Derivation derivation;
  absl::string_view value;
  bool operator==(const Key& o) const {
    return type == o.type && derivation == o.derivation && value == o.value;
  }
  template <typename H>
  friend H AbslHashValue(H h, const Key& k) {
    return H::combine(std::move(h), k.type, k.derivation, k.value);
  }
};

}  // namespace

std::vector<Indicator> Derive(const Indicator& indicator) {
  std::vector<Indicator> out;
  if (!indicator.valid()) return out;
  const std::string& v = indicator.value;
  switch (indicator.type) {
    case IndicatorType::kDomain:
      AddRegisteredDomain(indicator, v, &out);
      break;
    case IndicatorType::kIpv4:
      if (auto ip = internal::ParseIpv4(v)) AddNetwork(indicator, *ip, &out);
      break;
    case IndicatorType::kIpv6:
      if (auto ip = internal::ParseIpv6(v)) AddNetwork(indicator, *ip, &out);
      break;
    case IndicatorType::kUrl: {
      const std::string_view host = internal::UrlHost(v);
      if (host.empty()) break;
      if (auto ip4 = internal::ParseIpv4(host)) {
        out.push_back(
            DerivedFrom(indicator, IndicatorType::kIpv4, std::string(host), Derivation::kUrlHost));
        AddNetwork(indicator, *ip4, &out);
      } else if (auto ip6 = internal::ParseIpv6(host)) {
        out.push_back(
            DerivedFrom(indicator, IndicatorType::kIpv6, std::string(host), Derivation::kUrlHost));
        AddNetwork(indicator, *ip6, &out);
      } else {
        out.push_back(DerivedFrom(indicator, IndicatorType::kDomain, std::string(host),
                                  Derivation::kUrlHost));
        AddRegisteredDomain(indicator, host, &out);
      }
      break;
    }
    case IndicatorType::kEmail: {
      const size_t at = v.rfind('@');
      if (at == std::string::npos) break;
      const std::string_view domain = std::string_view(v).substr(at + 1);
      out.push_back(DerivedFrom(indicator, IndicatorType::kDomain, std::string(domain),
                                Derivation::kEmailDomain));
      AddRegisteredDomain(indicator, domain, &out);
      break;
    }
    default:
      break;
  }
  return out;
}

std::vector<std::string> EnclosingNetworks(IndicatorType type, std::string_view value) {
  std::vector<std::string> out;
  std::optional<internal::Network> net;
  if (type == IndicatorType::kIpv4 || type == IndicatorType::kIpv6 ||
      type == IndicatorType::kCidr) {
    absl::StatusOr<internal::Network> parsed = internal::ParseCidr(value);
    if (parsed.ok() &&
        (type == IndicatorType::kCidr || parsed->ip.v6 == (type == IndicatorType::kIpv6)))
      net = *parsed;
  }
  if (!net) return out;
  const int widest = net->ip.v6 ? 16 : 8;
  for (int len = net->len - 1; len >= widest; --len) {
    out.push_back(absl::StrCat(internal::FormatIp(internal::MaskIp(net->ip, len)), "/", len));
  }
  return out;
}

void NormalizeIncident(Incident& incident, std::vector<Diagnostic>* diagnostics) {
  std::vector<Indicator> derived;
  for (Indicator& ind : incident.indicators) {
    if (ind.derivation != Derivation::kNone) continue;  // re-derived below from its source
    if (ind.raw.empty() && !ind.value.empty()) ind.raw = ind.value;
    const std::string refanged = Refang(ind.raw);
    ind.type = CanonicalType(ind.type, refanged);
    absl::StatusOr<std::string> canon = Canonicalize(ind.type, refanged);
    if (canon.ok()) {
      ind.value = std::move(*canon);
      ind.error.clear();
      std::vector<Indicator> d = Derive(ind);
      for (Indicator& x : d) derived.push_back(std::move(x));
    } else {
      ind.value.clear();
      ind.error = std::string(canon.status().message());
      if (diagnostics != nullptr) {
        diagnostics->push_back(Diagnostic{
            Diagnostic::Severity::kWarning, incident.provenance.file, ind.location,
            absl::StrCat("cannot canonicalise ", AV(IndicatorTypeName(ind.type)), " \"",
                         Excerpt(ind.raw), "\": ", ind.error, "; kept out of the index")});
      }
    }
  }

  // Dedupe on (type, value, derivation), first occurrence wins; invalid indicators are all kept
  // so that each one is still shown with its error. Old derived indicators are dropped: they
  // were re-derived above, which keeps normalisation idempotent.
  std::vector<Indicator> out;
  out.reserve(incident.indicators.size() + derived.size());
  absl::flat_hash_set<Key> seen;
  seen.reserve(out.capacity());
  auto take = [&](Indicator&& ind) {
    if (!ind.valid()) {
      out.push_back(std::move(ind));
      return;
    }
    if (seen.contains(Key{ind.type, ind.derivation, AV(ind.value)})) return;
    out.push_back(std::move(ind));
    // `out` never reallocates (reserved above), so the view stays valid.
    seen.insert(Key{out.back().type, out.back().derivation, AV(out.back().value)});
  };
  for (Indicator& ind : incident.indicators) {
    if (ind.derivation == Derivation::kNone) take(std::move(ind));
  }
  for (Indicator& ind : derived) take(std::move(ind));
  incident.indicators = std::move(out);

  for (Technique& t : incident.techniques) {
    std::string_view id = internal::Trim(t.id);
    std::string up(id);
    for (char& c : up) {
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    }
    t.id = std::move(up);
  }
}

}  // namespace kinship::normalize
