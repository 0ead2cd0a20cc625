// WarninglistMatcher: every list compiled into a few shared lookup structures, each entry tagged
// with the lists it comes from, so a lookup costs a handful of hash probes whatever the number of
// lists (MISP itself walks lists one by one).
//   string    -> exact hash map (lower-cased); entries with a leading '.' (".google.com", as MISP's
//                google/microsoft lists write them) match that domain and its subdomains;
//   hostname  -> hash map of names, probed with the value and each parent domain;
//   substring -> per list, a hash set probed with every substring of each entry length present;
//   cidr      -> one hash map per prefix length present (IPv4 and IPv6 apart), probed with the
//                value masked to that length: a prefix structure with O(#lengths) probes;
//   regex     -> one RE2::Set (regex.cc).
#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "kinship/normalize.h"
#include "kinship/warninglist.h"
#include "normalize/adapters.h"
#include "warninglist/regex.h"

namespace kinship {
namespace {

using normalize::internal::IpAddr;
using Ids = absl::InlinedVector<uint16_t, 2>;
using TypeMask = uint32_t;
static_assert(kIndicatorTypeCount <= 32, "TypeMask holds one bit per IndicatorType");

constexpr TypeMask Bit(IndicatorType t) { return TypeMask{1} << static_cast<int>(t); }
constexpr TypeMask kIpTypes =
    Bit(IndicatorType::kIpv4) | Bit(IndicatorType::kIpv6) | Bit(IndicatorType::kCidr);

// MISP attribute types (misp-warninglists "matching_attributes") to kinship indicator types.
TypeMask TypesOfMispAttribute(std::string_view a) {
  using T = IndicatorType;
  if (a == "ip-src" || a == "ip-dst" || a == "ip-src|port" || a == "ip-dst|port" || a == "ip") {
    return kIpTypes;
  }
  if (a == "domain|ip") return kIpTypes | Bit(T::kDomain);
  if (a == "domain" || a == "hostname" || a == "hostname|port") return Bit(T::kDomain);
  if (a == "url" || a == "uri" || a == "link") return Bit(T::kUrl);
  if (a == "email" || a == "email-src" || a == "email-dst" || a == "target-email" ||
      a == "whois-registrant-email" || a == "dns-soa-email" || a == "email-reply-to") {
    return Bit(T::kEmail);
  }
  if (a == "md5" || a == "filename|md5") return Bit(T::kMd5);
  if (a == "sha1" || a == "filename|sha1") return Bit(T::kSha1);
  if (a == "sha256" || a == "filename|sha256") return Bit(T::kSha256);
  if (a == "sha512" || a == "filename|sha512") return Bit(T::kSha512);
  if (a == "ssdeep" || a == "filename|ssdeep") return Bit(T::kSsdeep);
  if (a == "tlsh" || a == "filename|tlsh") return Bit(T::kTlsh);
  if (a == "imphash" || a == "filename|imphash") return Bit(T::kImphash);
  if (a == "filename") return Bit(T::kFilename);
  if (a == "mutex") return Bit(T::kMutex);
  if (a == "regkey" || a == "regkey|value") return Bit(T::kRegistryKey);
  if (a == "named pipe") return Bit(T::kNamedPipe);
  if (a == "user-agent") return Bit(T::kUserAgent);
  if (a == "ja3-fingerprint-md5") return Bit(T::kJa3);
  if (a == "x509-fingerprint-md5" || a == "x509-fingerprint-sha1" ||
      a == "x509-fingerprint-sha256") {
    return Bit(T::kX509Fingerprint);
  }
  if (a == "AS") return Bit(T::kAsn);
  if (a == "vulnerability") return Bit(T::kCve);
  if (a == "btc") return Bit(T::kBitcoin);
  if (a == "pdb") return Bit(T::kPdb);
  if (a == "email-subject") return Bit(T::kEmailSubject);
  return 0;  // a MISP type kinship has no indicator for (sha224, uri, ...)
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view TrimDots(std::string_view s) {
  while (!s.empty() && (s.front() == '.' || s.front() == ' ')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == '.' || s.back() == ' ')) s.remove_suffix(1);
  return s;
}

struct U128 {
  uint64_t hi = 0, lo = 0;
  bool operator==(const U128& o) const { return hi == o.hi && lo == o.lo; }
  template <typename H>
  friend H AbslHashValue(H h, const U128& v) {
    return H::combine(std::move(h), v.hi, v.lo);
  }
};

uint32_t V4Key(const IpAddr& ip) {
  return (uint32_t{ip.bytes[0]} << 24) | (uint32_t{ip.bytes[1]} << 16) |
         (uint32_t{ip.bytes[2]} << 8) | ip.bytes[3];
}
U128 V6Key(const IpAddr& ip) {
  U128 k;
  for (int i = 0; i < 8; ++i) k.hi = (k.hi << 8) | ip.bytes[i];
  for (int i = 8; i < 16; ++i) k.lo = (k.lo << 8) | ip.bytes[i];
  return k;
}

// Parses "a.b.c.d", "a.b.c.d/len", "v6", "v6/len"; IPv4-mapped IPv6 ranges become IPv4.
bool ParseRange(std::string_view s, IpAddr* ip, int* len) {
  const size_t slash = s.find('/');
  const std::string_view addr = s.substr(0, slash);
  std::optional<IpAddr> a = normalize::internal::ParseIpv4(addr);
  if (!a) a = normalize::internal::ParseIpv6(addr);
  if (!a) return false;
  const int max_len = a->v6 ? 128 : 32;
  int l = max_len;
  if (slash != std::string_view::npos) {
    const std::string_view d = s.substr(slash + 1);
    if (d.empty() || d.size() > 3) return false;
    l = 0;
    for (char c : d) {
      if (c < '0' || c > '9') return false;
      l = l * 10 + (c - '0');
    }
    if (l > max_len) return false;
  }
  if (normalize::internal::IsV4Mapped(*a) && l >= 96) {
    *a = normalize::internal::UnmapV4(*a);
    l -= 96;
  }
  *ip = normalize::internal::MaskIp(*a, l);
  *len = l;
  return true;
}

template <typename Map, typename Key>
void AddId(Map& map, Key&& key, uint16_t id) {
  Ids& ids = map[std::forward<Key>(key)];
  if (ids.empty() || ids.back() != id) ids.push_back(id);
}

// Lists of providers whose customers name their own hosts below the provider's domain: a hit
// on the provider's own name is a hit, a customer's name below it is the customer's, and the
// provider's domain is a registrable boundary for every other list too (see Boundary()).
// MISP's dynamic-dns list marks every name under 35 k dynamic-DNS domains; most of those
// domains are not in the Public Suffix List (dns.army, v6.rocks, ...).
constexpr std::string_view kCustomerNameLists[] = {"dynamic-dns"};

}  // namespace

struct WarninglistMatcher::Impl {
  std::vector<Warninglist> lists;
  std::vector<TypeMask> applies;  // per list
  absl::flat_hash_map<std::string, Ids> exact;
  absl::flat_hash_map<std::string, Ids> dotted;  // string entries written ".example.com"
  absl::flat_hash_map<std::string, Ids> hostnames;
  // Domains under which a provider's customers name their own hosts (kCustomerNameLists), as
  // public suffixes are: see Boundary().
  absl::flat_hash_set<std::string> providers;
  struct Substring {
    uint16_t list;
    absl::flat_hash_set<std::string> entries;
    std::vector<size_t> lengths;  // distinct entry lengths, ascending
  };
  std::vector<Substring> substrings;
  std::vector<std::pair<int, absl::flat_hash_map<uint32_t, Ids>>> v4;  // by prefix length
  std::vector<std::pair<int, absl::flat_hash_map<U128, Ids>>> v6;
  warninglist_internal::RegexSet regex;
  std::vector<uint16_t> regex_list;  // pattern index -> list

  void Build();
  void Hits(const Indicator& ind, Ids* out) const;
  size_t Boundary(std::string_view host) const;
  void Add(const Ids& ids, TypeMask bit, Ids* out) const {
    for (uint16_t id : ids) {
      if (applies[id] & bit) out->push_back(id);
    }
  }
  // A host being matched, and its registrable-domain length (Boundary()), looked up only once
  // a parent of the host has an entry: most values match nothing, and libpsl costs more than
  // the probes.
  struct Host {
    std::string_view name;
    size_t boundary = std::string_view::npos;  // not looked up yet
  };
  // Walks `host` and each parent domain no shorter than its registrable domain; `find(suffix)`
  // gives a hit (a pointer or bool), `on_hit` is called with each.
  template <typename Find, typename OnHit>
  void ForEachSuffix(Host& host, Find find, OnHit on_hit) const {
    std::string_view s = host.name;
    while (!s.empty()) {
      if (auto hit = find(s)) {
        if (s.size() < host.name.size()) {
          if (host.boundary == std::string_view::npos) host.boundary = Boundary(host.name);
          if (s.size() < host.boundary) return;  // every later parent is shorter still
        }
        on_hit(hit);
      }
      const size_t dot = s.find('.');
      if (dot == std::string_view::npos) break;
      s.remove_prefix(dot + 1);
    }
  }
  void ProbeSuffixes(const absl::flat_hash_map<std::string, Ids>& map, Host& host, TypeMask bit,
                     Ids* out) const {
    if (map.empty()) return;
    ForEachSuffix(
        host,
        [&map](std::string_view s) -> const Ids* {
          auto it = map.find(AV(s));
          return it == map.end() ? nullptr : &it->second;
        },
        [&](const Ids* ids) { Add(*ids, bit, out); });
  }
  void ProbeIp(const IpAddr& ip, int max_len, TypeMask bit, Ids* out) const {
    if (ip.v6) {
      for (const auto& [len, map] : v6) {
        if (len > max_len) break;
        auto it = map.find(V6Key(normalize::internal::MaskIp(ip, len)));
        if (it != map.end()) Add(it->second, bit, out);
      }
    } else {
      for (const auto& [len, map] : v4) {
        if (len > max_len) break;
        auto it = map.find(V4Key(normalize::internal::MaskIp(ip, len)));
        if (it != map.end()) Add(it->second, bit, out);
      }
    }
  }
};

void WarninglistMatcher::Impl::Build() {
  absl::flat_hash_map<int, absl::flat_hash_map<uint32_t, Ids>> v4_by_len;
  absl::flat_hash_map<int, absl::flat_hash_map<U128, Ids>> v6_by_len;
  const size_t n = std::min<size_t>(lists.size(), 65535);
  applies.assign(lists.size(), 0);
  for (size_t i = 0; i < n; ++i) {
    const Warninglist& w = lists[i];
    const auto id = static_cast<uint16_t>(i);
    TypeMask mask = 0;
    for (const std::string& a : w.matching_attributes) mask |= TypesOfMispAttribute(a);
    applies[i] = w.matching_attributes.empty() ? ~TypeMask{0} : mask;
    if (w.type == "string") {
      for (const std::string& e : w.entries) {
        std::string_view v(e);
        if (!v.empty() && v.front() == '.') {
          AddId(dotted, Lower(TrimDots(v)), id);
        } else {
          AddId(exact, Lower(v), id);
        }
      }
    } else if (w.type == "hostname") {
      const bool provider = std::find(std::begin(kCustomerNameLists), std::end(kCustomerNameLists),
                                      w.name) != std::end(kCustomerNameLists);
      for (const std::string& e : w.entries) {
        const std::string_view v = TrimDots(e);
        if (v.empty()) continue;
        auto canon = normalize::Canonicalize(IndicatorType::kDomain, v);  // IDN entries too
        std::string name = canon.ok() ? std::move(*canon) : Lower(v);
        if (provider) providers.insert(name);
        AddId(hostnames, std::move(name), id);
      }
    } else if (w.type == "substring") {
      Substring sub{id, {}, {}};
      for (const std::string& e : w.entries) {
        if (e.empty()) continue;
        sub.entries.insert(Lower(e));
        sub.lengths.push_back(e.size());
      }
      std::sort(sub.lengths.begin(), sub.lengths.end());
      sub.lengths.erase(std::unique(sub.lengths.begin(), sub.lengths.end()), sub.lengths.end());
      substrings.push_back(std::move(sub));
    } else if (w.type == "cidr") {
      for (const std::string& e : w.entries) {
        IpAddr ip;
        int len = 0;
        if (!ParseRange(e, &ip, &len)) continue;  // unparsable range: cannot match anything
        if (ip.v6) {
          AddId(v6_by_len[len], V6Key(ip), id);
        } else {
          AddId(v4_by_len[len], V4Key(ip), id);
        }
      }
    } else if (w.type == "regex") {
      for (const std::string& e : w.entries) {
        std::string error;
        const int index = regex.Add(e, &error);
        if (index < 0) continue;  // RE2 refuses PCRE-only syntax (backreferences, lookaround)
        if (regex_list.size() <= static_cast<size_t>(index)) regex_list.resize(index + 1);
        regex_list[index] = id;
      }
    }
  }
  regex.Compile();
  for (auto& [len, map] : v4_by_len) v4.emplace_back(len, std::move(map));
  for (auto& [len, map] : v6_by_len) v6.emplace_back(len, std::move(map));
  auto by_len = [](const auto& a, const auto& b) { return a.first < b.first; };
  std::sort(v4.begin(), v4.end(), by_len);
  std::sort(v6.begin(), v6.end(), by_len);
}

// The length of the shortest name a hostname, dotted or (for domains) substring entry may match
// for `host`: its registrable domain. A list entry covers names below it, but not across a
// registrable-domain boundary: when the entry is a public suffix (the PSL's private section:
// ddns.net, github.io, azurewebsites.net, ...) or a provider of kCustomerNameLists (dns.army),
// a name below it belongs to whoever registered it there, and the service's popularity (Tranco
// and Majestic list ddns.net) or its owner (Microsoft runs azurewebsites.net) says nothing of
// that name. MISP probes every parent; here "x.ddns.net" and "x.dns.army" stay indicators while
// "ddns.net" itself and "mail.google.com" (below google.com) still match.
size_t WarninglistMatcher::Impl::Boundary(std::string_view host) const {
  const std::optional<std::string> reg = normalize::RegisteredDomain(host);
  size_t min = reg ? reg->size() : host.size();
  if (providers.empty()) return min;
  // The longest provider domain strictly above `host`: one more label is the customer's name.
  for (size_t dot = host.find('.'); dot != std::string_view::npos; dot = host.find('.', dot + 1)) {
    if (providers.contains(AV(host.substr(dot + 1)))) {
      const size_t label = dot == 0 ? std::string_view::npos : host.rfind('.', dot - 1);
      const size_t start = label == std::string_view::npos ? 0 : label + 1;
      return std::max(min, host.size() - start);
    }
  }
  return min;
}

void WarninglistMatcher::Impl::Hits(const Indicator& ind, Ids* out) const {
  const TypeMask bit = Bit(ind.type);
  const std::string value = Lower(ind.value);
  std::string_view host;  // the name probed against hostname lists
  switch (ind.type) {
    case IndicatorType::kIpv4:
      if (auto ip = normalize::internal::ParseIpv4(value)) ProbeIp(*ip, 32, bit, out);
      break;
    case IndicatorType::kIpv6:
      if (auto ip = normalize::internal::ParseIpv6(value)) ProbeIp(*ip, 128, bit, out);
      break;
    case IndicatorType::kCidr: {
      IpAddr ip;
      int len = 0;
      if (ParseRange(value, &ip, &len)) ProbeIp(ip, len, bit, out);
      break;
    }
    case IndicatorType::kDomain:
      host = value;
      break;
    case IndicatorType::kUrl: {
      const size_t p = value.find("://");
      if (p == std::string::npos) break;
      std::string_view rest = std::string_view(value).substr(p + 3);
      rest = rest.substr(0, rest.find_first_of("/?#"));
      if (const size_t at = rest.rfind('@'); at != std::string_view::npos) {
        rest.remove_prefix(at + 1);
      }
      if (!rest.empty() && rest.front() == '[') {
        const size_t close = rest.find(']');
        if (close == std::string_view::npos) break;
        if (auto ip = normalize::internal::ParseIpv6(rest.substr(1, close - 1))) {
          ProbeIp(*ip, 128, bit, out);
        }
        break;
      }
      rest = rest.substr(0, rest.find(':'));
      if (auto ip = normalize::internal::ParseIpv4(rest)) {
        ProbeIp(*ip, 32, bit, out);
        break;
      }
      host = rest;
      if (auto it = exact.find(AV(host)); it != exact.end()) Add(it->second, bit, out);
      break;
    }
    case IndicatorType::kEmail:
      if (const size_t at = value.rfind('@'); at != std::string::npos) {
        host = std::string_view(value).substr(at + 1);
      }
      break;
    default:
      break;
  }
  if (auto it = exact.find(value); it != exact.end()) Add(it->second, bit, out);
  Host probed{host};
  if (!host.empty()) {
    ProbeSuffixes(hostnames, probed, bit, out);
    ProbeSuffixes(dotted, probed, bit, out);
  }
  for (const Substring& sub : substrings) {
    if (!(applies[sub.list] & bit)) continue;
    bool found = false;
    if (ind.type == IndicatorType::kDomain) {
      // A domain is matched on whole names, as by a hostname list: "x.dns.army" contains the
      // disposable-email entry "dns.army" but is not that provider's name.
      ForEachSuffix(
          probed, [&sub](std::string_view s) { return sub.entries.contains(AV(s)); },
          [&found](bool) { found = true; });
      if (found) out->push_back(sub.list);
      continue;
    }
    for (size_t len : sub.lengths) {
      if (len > value.size()) break;
      for (size_t i = 0; i + len <= value.size() && !found; ++i) {
        found = sub.entries.contains(absl::string_view(value.data() + i, len));
      }
      if (found) break;
    }
    if (found) out->push_back(sub.list);
  }
  if (!regex.empty()) {
    std::vector<int> hits;
    regex.Match(value, &hits);
    for (int h : hits) {
      const uint16_t id = regex_list[static_cast<size_t>(h)];
      if (applies[id] & bit) out->push_back(id);
    }
  }
}

WarninglistMatcher::WarninglistMatcher(std::vector<Warninglist> lists)
    : impl_(std::make_unique<Impl>()) {
  impl_->lists = std::move(lists);
  impl_->Build();
}
WarninglistMatcher::~WarninglistMatcher() = default;
WarninglistMatcher::WarninglistMatcher(WarninglistMatcher&&) noexcept = default;
WarninglistMatcher& WarninglistMatcher::operator=(WarninglistMatcher&&) noexcept = default;

std::vector<std::string> WarninglistMatcher::Match(const Indicator& indicator) const {
  std::vector<std::string> names;
  if (!impl_ || indicator.value.empty()) return names;
  Ids ids;
  impl_->Hits(indicator, &ids);
  if (ids.empty()) return names;
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  names.reserve(ids.size());
  for (uint16_t id : ids) names.push_back(impl_->lists[id].name);
  return names;
}

const std::vector<Warninglist>& WarninglistMatcher::lists() const { return impl_->lists; }

}  // namespace kinship
