// The real MISP warninglists ($KINSHIP_DATA/misp-warninglists) loaded and matched.
#include <chrono>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kinship/normalize.h"
#include "kinship/warninglist.h"
#include "testing/data.h"

namespace kinship {
namespace {

using T = IndicatorType;
using ::testing::Contains;
using ::testing::IsEmpty;
using ::testing::Not;

class RealWarninglists : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto lists = LoadWarninglistDir(testing::DataPath("misp-warninglists"));
    ASSERT_TRUE(lists.ok()) << lists.status();
    count_ = lists->size();
    matcher_ = new WarninglistMatcher(std::move(*lists));
  }
  static void TearDownTestSuite() {
    delete matcher_;
    matcher_ = nullptr;
  }
  // Canonicalises first, as ingest does.
  static std::vector<std::string> Match(T type, std::string_view raw) {
    Indicator i;
    i.type = normalize::CanonicalType(type, raw);
    auto v = normalize::Canonicalize(i.type, raw);
    EXPECT_TRUE(v.ok()) << raw;
    i.value = v.ok() ? *v : "";
    return matcher_->Match(i);
  }
  static inline WarninglistMatcher* matcher_ = nullptr;
  static inline size_t count_ = 0;
};

TEST_F(RealWarninglists, LoadsEveryListOfTheFolder) {
  EXPECT_EQ(count_, 50u);  // SOURCE.md: 50 lists copied
  bool has_regex = false;
  for (const Warninglist& w : matcher_->lists()) has_regex = has_regex || w.type == "regex";
  EXPECT_TRUE(has_regex);
}

TEST_F(RealWarninglists, PublicResolversAndPrivateSpace) {
  EXPECT_THAT(Match(T::kIpv4, "8.8.8.8"), Contains("public-dns-v4"));
  EXPECT_THAT(Match(T::kIpv4, "1.1.1.1"), Contains("public-dns-v4"));
  EXPECT_THAT(Match(T::kIpv6, "2001:4860:4860::8888"), Contains("public-dns-v6"));
  EXPECT_THAT(Match(T::kIpv4, "10.1.2.3"), Contains("rfc1918"));
  EXPECT_THAT(Match(T::kIpv4, "192.168.7.1"), Contains("rfc1918"));
  EXPECT_THAT(Match(T::kIpv4, "100.64.1.1"), Contains("rfc6598"));
  EXPECT_THAT(Match(T::kIpv6, "FE80::1"), Contains("ipv6-linklocal"));
  EXPECT_THAT(Match(T::kIpv6, "2001:db8::1"), Contains("rfc3849"));
  EXPECT_THAT(Match(T::kCidr, "10.20.0.0/16"), Contains("rfc1918"));
}

TEST_F(RealWarninglists, TopSitesAndGoogleDomains) {
  EXPECT_THAT(Match(T::kDomain, "google.com"), Contains("tranco10k"));
  EXPECT_THAT(Match(T::kDomain, "mail.google.com"), Contains("tranco10k"));
  EXPECT_THAT(Match(T::kDomain, "www.google.de"), Contains("google"));
  EXPECT_THAT(Match(T::kUrl, "https://docs.google.com/x"), Contains("tranco10k"));
  EXPECT_THAT(Match(T::kDomain, "bit.ly"), Contains("url-shortener"));
}

TEST_F(RealWarninglists, EmailsAndHashes) {
  EXPECT_THAT(Match(T::kEmail, "abuse@example.org"), Contains("common-contact-emails"));
  EXPECT_THAT(Match(T::kEmail, "someone@mailinator.com"), Contains("disposable-email"));
  EXPECT_THAT(Match(T::kMd5, "D41D8CD98F00B204E9800998ECF8427E"), Contains("empty-hashes"));
  EXPECT_THAT(Match(T::kSha256, "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"),
              Contains("empty-hashes"));
}

TEST_F(RealWarninglists, AttackerInfrastructureDoesNotMatch) {
  // APT28 infrastructure from public reporting (Sofacy): none of these lists should hit.
  EXPECT_THAT(Match(T::kIpv4, "176.31.112.10"), IsEmpty());
  EXPECT_THAT(Match(T::kDomain, "actblues.com"), IsEmpty());
  EXPECT_THAT(Match(T::kUrl, "http://actblues.com/gate.php"), IsEmpty());
  EXPECT_THAT(Match(T::kMd5, "0123456789abcdef0123456789abcdef"), IsEmpty());
  EXPECT_THAT(Match(T::kEmail, "ceo@actblues.com"), IsEmpty());
  EXPECT_THAT(Match(T::kIpv4, "8.8.8.9"), Not(Contains("public-dns-v4")));
}

TEST_F(RealWarninglists, NamesRegisteredUnderAPopularDynamicDnsSuffixStayIndicators) {
  // Tranco and Majestic list ddns.net (No-IP), which the Public Suffix List's private section
  // also holds: the service is popular, a name someone registered under it is theirs. (Invented
  // names.)
  ASSERT_THAT(Match(T::kDomain, "ddns.net"), Contains("tranco10k"));
  EXPECT_THAT(Match(T::kDomain, "update-checker-7.ddns.net"), Not(Contains("tranco10k")));
  EXPECT_THAT(Match(T::kUrl, "http://mail.update-checker-7.ddns.net/a"),
              Not(Contains("tranco10k")));
  EXPECT_THAT(Match(T::kDomain, "mail.google.com"), Contains("tranco10k"));  // below google.com
  // dns.army: a dynamic-DNS domain (dynamic-dns, and a disposable-email entry) that the PSL does
  // not hold; a customer's name below it is no list's.
  ASSERT_THAT(Match(T::kDomain, "dns.army"), Contains("dynamic-dns"));
  EXPECT_THAT(Match(T::kDomain, "account-check.dns.army"), IsEmpty());
}

}  // namespace
}  // namespace kinship
