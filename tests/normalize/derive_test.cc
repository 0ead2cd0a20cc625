// Derived indicators and whole-incident normalisation.
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kinship/normalize.h"

namespace kinship::normalize {
namespace {

using T = IndicatorType;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

Indicator Valid(T type, std::string value) {
  Indicator i;
  i.type = type;
  i.value = value;
  i.raw = value;
  return i;
}

std::vector<std::string> Summary(const std::vector<Indicator>& v) {
  std::vector<std::string> out;
  for (const Indicator& i : v) {
    out.push_back(std::string(IndicatorTypeName(i.type)) + ":" + i.value + ":" +
                  std::string(DerivationName(i.derivation)));
  }
  return out;
}

TEST(Derive, DomainGivesRegisteredDomainOnlyWhenDifferent) {
  EXPECT_THAT(Summary(Derive(Valid(T::kDomain, "mail.evil.co.uk"))),
              ElementsAre("domain:evil.co.uk:registered-domain"));
  EXPECT_THAT(Derive(Valid(T::kDomain, "evil.co.uk")), IsEmpty());
  EXPECT_THAT(Derive(Valid(T::kDomain, "co.uk")), IsEmpty());
}

TEST(Derive, IpsGiveTheirNetworks) {
  EXPECT_THAT(Summary(Derive(Valid(T::kIpv4, "176.31.112.10"))),
              ElementsAre("cidr:176.31.112.0/24:network"));
  EXPECT_THAT(Summary(Derive(Valid(T::kIpv6, "2001:db8:1234:5678::1"))),
              ElementsAre("cidr:2001:db8:1234::/48:network"));
}

TEST(Derive, UrlGivesHostAndItsRegisteredDomain) {
  EXPECT_THAT(Summary(Derive(Valid(T::kUrl, "http://a.b.evil.com:8080/x"))),
              ElementsAre("domain:a.b.evil.com:url-host", "domain:evil.com:registered-domain"));
  EXPECT_THAT(Summary(Derive(Valid(T::kUrl, "http://176.31.112.10/x"))),
              ElementsAre("ipv4:176.31.112.10:url-host", "cidr:176.31.112.0/24:network"));
  EXPECT_THAT(Summary(Derive(Valid(T::kUrl, "http://[2001:db8::1]/x"))),
              ElementsAre("ipv6:2001:db8::1:url-host", "cidr:2001:db8::/48:network"));
}

TEST(Derive, EmailGivesDomain) {
  EXPECT_THAT(
      Summary(Derive(Valid(T::kEmail, "a@mail.evil.com"))),
      ElementsAre("domain:mail.evil.com:email-domain", "domain:evil.com:registered-domain"));
}

TEST(Derive, NothingForInvalidOrOtherTypes) {
  Indicator bad = Valid(T::kDomain, "");
  bad.error = "x";
  EXPECT_THAT(Derive(bad), IsEmpty());
  EXPECT_THAT(Derive(Valid(T::kSha256, std::string(64, 'a'))), IsEmpty());
  EXPECT_THAT(Derive(Valid(T::kCidr, "10.0.0.0/8")), IsEmpty());
}

// What a pivot looks up among stated networks: every wider network, narrowest first, down to a
// /8 (IPv6: /16); for a network the ones wider than it. A value of another family gives none.
TEST(EnclosingNetworks, OfAnAddressAndOfANetwork) {
  std::vector<std::string> v4 = EnclosingNetworks(T::kIpv4, "10.1.2.3");
  ASSERT_EQ(v4.size(), 24u);
  EXPECT_EQ(v4.front(), "10.1.2.2/31");
  EXPECT_EQ(v4[7], "10.1.2.0/24");
  EXPECT_EQ(v4.back(), "10.0.0.0/8");
  std::vector<std::string> net = EnclosingNetworks(T::kCidr, "10.1.0.0/20");
  ASSERT_EQ(net.size(), 12u);
  EXPECT_EQ(net.front(), "10.1.0.0/19");
  EXPECT_EQ(net.back(), "10.0.0.0/8");
  EXPECT_THAT(EnclosingNetworks(T::kCidr, "10.0.0.0/8"), IsEmpty());
  std::vector<std::string> v6 = EnclosingNetworks(T::kCidr, "2001:db8::/32");
  ASSERT_EQ(v6.size(), 16u);
  EXPECT_EQ(v6.front(), "2001:db8::/31");
  EXPECT_EQ(v6.back(), "2001::/16");
  EXPECT_THAT(EnclosingNetworks(T::kIpv6, "10.1.2.3"), IsEmpty());
  EXPECT_THAT(EnclosingNetworks(T::kIpv4, "2001:db8::1"), IsEmpty());
  EXPECT_THAT(EnclosingNetworks(T::kDomain, "10.1.2.3"), IsEmpty());
  EXPECT_THAT(EnclosingNetworks(T::kCidr, "10.1.2.3/33"), IsEmpty());
}

Incident Sample() {
  Incident inc;
  inc.id = "i1";
  inc.provenance.file = "feed.json";
  inc.indicators.push_back(Indicator::Raw(T::kIpv4, "176.31.112[.]10", "Attribute[0]"));
  inc.indicators.push_back(Indicator::Raw(T::kUrl, "hxxp://WWW.Evil[.]com:80/a", "Attribute[1]"));
  inc.indicators.push_back(Indicator::Raw(T::kMd5, std::string(64, 'A'), "Attribute[2]"));
  inc.indicators.push_back(Indicator::Raw(T::kMd5, "abc", "Attribute[3]"));
  inc.indicators.push_back(Indicator::Raw(T::kDomain, "www.evil.com.", "Attribute[4]"));
  inc.indicators.push_back(Indicator::Raw(T::kIpv6, "[::ffff:176.31.112.10]", "Attribute[5]"));
  inc.techniques.push_back({" t1566.001 ", "Spearphishing"});
  return inc;
}

TEST(NormalizeIncident, RefangsFixesTypesDerivesAndDedupes) {
  Incident inc = Sample();
  std::vector<Diagnostic> diags;
  NormalizeIncident(inc, &diags);
  EXPECT_THAT(Summary(inc.indicators),
              ElementsAre("ipv4:176.31.112.10:", "url:http://www.evil.com/a:",
                          "sha256:" + std::string(64, 'a') + ":",
                          "md5::", "domain:www.evil.com:", "cidr:176.31.112.0/24:network",
                          "domain:www.evil.com:url-host", "domain:evil.com:registered-domain"));
  EXPECT_EQ(inc.indicators[0].raw, "176.31.112[.]10");  // raw kept for display
  EXPECT_EQ(inc.techniques[0].id, "T1566.001");
}

TEST(NormalizeIncident, ReportsUncanonicalisableValueWithLocation) {
  Incident inc = Sample();
  std::vector<Diagnostic> diags;
  NormalizeIncident(inc, &diags);
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags[0].file, "feed.json");
  EXPECT_EQ(diags[0].location, "Attribute[3]");
  EXPECT_THAT(diags[0].message, ::testing::HasSubstr("md5 must be 32 hex digits, got 3"));
  const Indicator& bad = inc.indicators[3];
  EXPECT_FALSE(bad.valid());
  EXPECT_EQ(bad.raw, "abc");
  EXPECT_EQ(bad.value, "");
  EXPECT_THAT(bad.error, ::testing::HasSubstr("got 3 characters"));
}

TEST(NormalizeIncident, IsIdempotent) {
  Incident inc = Sample();
  NormalizeIncident(inc, nullptr);
  const std::vector<std::string> once = Summary(inc.indicators);
  NormalizeIncident(inc, nullptr);
  EXPECT_EQ(Summary(inc.indicators), once);
}

TEST(NormalizeIncident, KeepsEveryInvalidIndicator) {
  Incident inc;
  inc.indicators.push_back(Indicator::Raw(T::kSha1, "zz", "1:1"));
  inc.indicators.push_back(Indicator::Raw(T::kSha1, "zz", "2:1"));
  std::vector<Diagnostic> diags;
  NormalizeIncident(inc, &diags);
  EXPECT_EQ(inc.indicators.size(), 2u);
  EXPECT_EQ(diags.size(), 2u);
}

}  // namespace
}  // namespace kinship::normalize
