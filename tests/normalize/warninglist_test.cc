// WarninglistMatcher on small synthetic lists: every list type and matching_attributes.
#include "kinship/warninglist.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kinship {
namespace {

using T = IndicatorType;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

Warninglist List(std::string name, std::string type, std::vector<std::string> attrs,
                 std::vector<std::string> entries) {
  Warninglist w;
  w.name = std::move(name);
  w.title = w.name + " title";
  w.type = std::move(type);
  w.matching_attributes = std::move(attrs);
  w.entries = std::move(entries);
  return w;
}

Indicator Ind(T type, std::string value) {
  Indicator i;
  i.type = type;
  i.value = std::move(value);
  return i;
}

WarninglistMatcher Sample() {
  std::vector<Warninglist> lists;
  lists.push_back(List("dns", "cidr", {"ip-src", "ip-dst"},
                       {"8.8.8.8", "1.1.1.0/24", "2001:4860:4860::8888", "::ffff:9.9.9.0/120"}));
  lists.push_back(List("private", "cidr", {"ip-dst", "domain|ip"}, {"10.0.0.0/8", "FE80::/10"}));
  lists.push_back(
      List("top", "hostname", {"domain", "hostname", "url"}, {"google.com", ".Bing.com."}));
  lists.push_back(List("exact", "string", {"domain", "md5"},
                       {"Exact.example", ".google.ad", "D41D8CD98F00B204E9800998ECF8427E"}));
  lists.push_back(List("disposable", "substring", {"email-src"}, {"mailinator.com", "tmp"}));
  lists.push_back(
      List("contacts", "regex", {"email-src"}, {"/^(security|abuse)\\@.*\\..*$/i", "(?<=x)y"}));
  lists.push_back(List("anything", "string", {}, {"magic"}));
  return WarninglistMatcher(std::move(lists));
}

TEST(WarninglistMatcher, CidrListsMatchAddressesInsideRanges) {
  WarninglistMatcher m = Sample();
  EXPECT_THAT(m.Match(Ind(T::kIpv4, "8.8.8.8")), ElementsAre("dns"));
  EXPECT_THAT(m.Match(Ind(T::kIpv4, "8.8.8.9")), IsEmpty());
  EXPECT_THAT(m.Match(Ind(T::kIpv4, "1.1.1.77")), ElementsAre("dns"));
  EXPECT_THAT(m.Match(Ind(T::kIpv4, "9.9.9.9")), ElementsAre("dns"));  // mapped range -> IPv4
  EXPECT_THAT(m.Match(Ind(T::kIpv4, "10.1.2.3")), ElementsAre("private"));
  EXPECT_THAT(m.Match(Ind(T::kIpv6, "2001:4860:4860::8888")), ElementsAre("dns"));
  EXPECT_THAT(m.Match(Ind(T::kIpv6, "fe80::1")), ElementsAre("private"));
  EXPECT_THAT(m.Match(Ind(T::kCidr, "10.1.2.0/24")), ElementsAre("private"));
  EXPECT_THAT(m.Match(Ind(T::kCidr, "1.1.0.0/16")), IsEmpty());        // wider than the listed /24
  EXPECT_THAT(m.Match(Ind(T::kUrl, "http://10.9.9.9/x")), IsEmpty());  // "url" not in attrs
}

TEST(WarninglistMatcher, HostnameListsMatchDomainSubdomainsAndUrlHosts) {
  WarninglistMatcher m = Sample();
  EXPECT_THAT(m.Match(Ind(T::kDomain, "google.com")), ElementsAre("top"));
  EXPECT_THAT(m.Match(Ind(T::kDomain, "mail.google.com")), ElementsAre("top"));
  EXPECT_THAT(m.Match(Ind(T::kDomain, "www.bing.com")), ElementsAre("top"));
  EXPECT_THAT(m.Match(Ind(T::kDomain, "notgoogle.com")), IsEmpty());
  EXPECT_THAT(m.Match(Ind(T::kDomain, "google.com.evil.net")), IsEmpty());
  EXPECT_THAT(m.Match(Ind(T::kUrl, "https://docs.google.com:8443/a?b")), ElementsAre("top"));
  EXPECT_THAT(m.Match(Ind(T::kEmail, "a@google.com")), IsEmpty());  // "email" not in attrs
}

TEST(WarninglistMatcher, HostnameEntriesStopAtTheRegistrableDomain) {
  // github.io is a public suffix (the PSL's private section): pages below it are their owners'.
  std::vector<Warninglist> lists;
  lists.push_back(List("top", "hostname", {"domain", "url"},
                       {"github.io", "google.com", "kinship-demo.github.io"}));
  WarninglistMatcher m(std::move(lists));
  EXPECT_THAT(m.Match(Ind(T::kDomain, "github.io")), ElementsAre("top"));
  EXPECT_THAT(m.Match(Ind(T::kDomain, "someone.github.io")), IsEmpty());
  EXPECT_THAT(m.Match(Ind(T::kDomain, "www.someone.github.io")), IsEmpty());
  EXPECT_THAT(m.Match(Ind(T::kUrl, "https://someone.github.io/x")), IsEmpty());
  EXPECT_THAT(m.Match(Ind(T::kDomain, "kinship-demo.github.io")), ElementsAre("top"));
  EXPECT_THAT(m.Match(Ind(T::kDomain, "docs.kinship-demo.github.io")), ElementsAre("top"));
  EXPECT_THAT(m.Match(Ind(T::kDomain, "a.b.google.com")), ElementsAre("top"));
}

TEST(WarninglistMatcher, DynamicDnsProvidersAreRegistrableBoundariesForEveryList) {
  // dns.example.org is no public suffix; listed by dynamic-dns it is a provider whose customers
  // name hosts below it. Its own name matches every list that has it; a customer's name
  // matches none of them (hostname, dotted string, or substring on whole names).
  std::vector<Warninglist> lists;
  lists.push_back(List("dynamic-dns", "hostname", {"domain"}, {".dns.example.org"}));
  lists.push_back(List("top", "hostname", {"domain"}, {"example.org"}));
  lists.push_back(List("owner", "string", {"domain"}, {".dns.example.org"}));
  lists.push_back(List("disposable", "substring", {"domain|ip"}, {"dns.example.org"}));
  WarninglistMatcher m(std::move(lists));
  EXPECT_THAT(m.Match(Ind(T::kDomain, "dns.example.org")),
              ElementsAre("dynamic-dns", "top", "owner", "disposable"));
  EXPECT_THAT(m.Match(Ind(T::kDomain, "victim-login.dns.example.org")), IsEmpty());
  EXPECT_THAT(m.Match(Ind(T::kDomain, "www.victim-login.dns.example.org")), IsEmpty());
  EXPECT_THAT(m.Match(Ind(T::kDomain, "www.example.org")), ElementsAre("top"));
  // A substring entry matches a domain only as a whole name, not inside a label.
  EXPECT_THAT(m.Match(Ind(T::kDomain, "xdns.example.org")), ElementsAre("top"));
}

TEST(WarninglistMatcher, StringListsMatchExactlyAndDottedEntriesAsSuffix) {
  WarninglistMatcher m = Sample();
  EXPECT_THAT(m.Match(Ind(T::kDomain, "exact.example")), ElementsAre("exact"));
  EXPECT_THAT(m.Match(Ind(T::kDomain, "sub.exact.example")), IsEmpty());
  EXPECT_THAT(m.Match(Ind(T::kDomain, "www.google.ad")), ElementsAre("exact"));
  EXPECT_THAT(m.Match(Ind(T::kMd5, "d41d8cd98f00b204e9800998ecf8427e")), ElementsAre("exact"));
  EXPECT_THAT(m.Match(Ind(T::kSha1, "d41d8cd98f00b204e9800998ecf8427e")), IsEmpty());
}

TEST(WarninglistMatcher, SubstringAndRegexListsOnEmails) {
  WarninglistMatcher m = Sample();
  EXPECT_THAT(m.Match(Ind(T::kEmail, "x@mailinator.com")), ElementsAre("disposable"));
  EXPECT_THAT(m.Match(Ind(T::kEmail, "tmpuser@corp.example")), ElementsAre("disposable"));
  EXPECT_THAT(m.Match(Ind(T::kEmail, "abuse@corp.example")), ElementsAre("contacts"));
  EXPECT_THAT(m.Match(Ind(T::kEmail, "Security@corp.example")), ElementsAre("contacts"));
  EXPECT_THAT(m.Match(Ind(T::kEmail, "abuse@tmp.example")), ElementsAre("disposable", "contacts"));
  EXPECT_THAT(m.Match(Ind(T::kEmail, "ceo@corp.example")), IsEmpty());
  EXPECT_THAT(m.Match(Ind(T::kDomain, "mailinator.com")), IsEmpty());
}

TEST(WarninglistMatcher, EmptyMatchingAttributesApplyToEveryType) {
  WarninglistMatcher m = Sample();
  EXPECT_THAT(m.Match(Ind(T::kMutex, "magic")), ElementsAre("anything"));
  EXPECT_THAT(m.Match(Ind(T::kFilename, "magic")), ElementsAre("anything"));
  EXPECT_THAT(m.Match(Ind(T::kFilename, "")), IsEmpty());
}

TEST(WarninglistMatcher, MovedMatcherKeepsLists) {
  WarninglistMatcher m = Sample();
  WarninglistMatcher moved(std::move(m));
  EXPECT_EQ(moved.lists().size(), 7u);
  EXPECT_THAT(moved.Match(Ind(T::kIpv4, "8.8.8.8")), ElementsAre("dns"));
}

TEST(ParseWarninglist, ReadsMispListJson) {
  auto w = ParseWarninglist(R"({"name":"Public DNS","type":"cidr","version":3,"description":"d",)"
                            R"("matching_attributes":["ip-src"],"list":["8.8.8.8","1.1.1.1"]})",
                            "public-dns-v4", "lists/public-dns-v4/list.json");
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->name, "public-dns-v4");
  EXPECT_EQ(w->title, "Public DNS");
  EXPECT_EQ(w->type, "cidr");
  EXPECT_EQ(w->version, 3);
  EXPECT_THAT(w->matching_attributes, ElementsAre("ip-src"));
  EXPECT_THAT(w->entries, ElementsAre("8.8.8.8", "1.1.1.1"));
}

void ExpectBad(std::string_view json, std::string_view part) {
  auto w = ParseWarninglist(json, "x", "x/list.json");
  ASSERT_FALSE(w.ok()) << json;
  EXPECT_EQ(w.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(w.status().message()), ::testing::HasSubstr("x/list.json"));
  EXPECT_THAT(std::string(w.status().message()), ::testing::HasSubstr(std::string(part)));
}

TEST(ParseWarninglist, RejectsMalformedListsNamingFileAndPath) {
  ExpectBad("{", "malformed JSON");
  ExpectBad("[]", "not an object");
  ExpectBad(R"({"name":"n","type":"fuzzy","list":[]})", "unknown list type \"fuzzy\"");
  ExpectBad(R"({"name":"n","type":"string"})", "list: missing");
  ExpectBad(R"({"name":"n","type":"string","list":["a",3]})", "list[1]: not a string");
  ExpectBad(R"({"type":"string","list":[]})", "name: missing");
  ExpectBad(R"({"name":"n","type":"string","version":"1","list":[]})", "version: not an integer");
}

TEST(LoadWarninglistDir, MissingFolderIsNotFound) {
  auto lists = LoadWarninglistDir("/nonexistent/kinship-warninglists");
  ASSERT_FALSE(lists.ok());
  EXPECT_EQ(lists.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace kinship
