// Every canonicalisation rule of normalize.h, with hostile inputs.
#include <string>

#include "gtest/gtest.h"
#include "kinship/normalize.h"

namespace kinship::normalize {
namespace {

using T = IndicatorType;

std::string Canon(T type, std::string_view raw) {
  auto c = Canonicalize(type, raw);
  EXPECT_TRUE(c.ok()) << raw << ": " << c.status();
  return c.ok() ? *c : std::string("<error>");
}

void ExpectInvalid(T type, std::string_view raw, std::string_view reason_part) {
  auto c = Canonicalize(type, raw);
  ASSERT_FALSE(c.ok()) << raw << " -> " << *c;
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument) << raw;
  EXPECT_NE(c.status().message().find(AV(reason_part)), absl::string_view::npos)
      << raw << ": " << c.status().message();
}

TEST(Canonicalize, Ipv4IsInetNtopForm) {
  EXPECT_EQ(Canon(T::kIpv4, " 176.31.112.10 "), "176.31.112.10");
  EXPECT_EQ(Canon(T::kIpv4, "0.0.0.0"), "0.0.0.0");
}

TEST(Canonicalize, Ipv4RejectsLeadingZerosAsAmbiguousOctal) {
  ExpectInvalid(T::kIpv4, "010.1.2.3", "leading zero");
  ExpectInvalid(T::kIpv4, "1.2.3.04", "leading zero");
  ExpectInvalid(T::kIpv4, "1.2.3.00", "leading zero");
}

TEST(Canonicalize, Ipv4RejectsJunk) {
  ExpectInvalid(T::kIpv4, "1.2.3", "not an IPv4");
  ExpectInvalid(T::kIpv4, "1.2.3.256", "not an IPv4");
  ExpectInvalid(T::kIpv4, "1.2.3[.]4", "not an IPv4");  // refanging is Refang's job
  ExpectInvalid(T::kIpv4, "2001:db8::1", "IPv6");
  ExpectInvalid(T::kIpv4, "", "empty");
  ExpectInvalid(T::kIpv4, "   ", "empty");
}

TEST(Canonicalize, Ipv4AcceptsMappedIpv6) {
  EXPECT_EQ(Canon(T::kIpv4, "::ffff:1.2.3.4"), "1.2.3.4");
}

TEST(Canonicalize, Ipv6IsCompressedLowerCase) {
  EXPECT_EQ(Canon(T::kIpv6, "2001:0DB8:0000:0000:0000:0000:0000:0001"), "2001:db8::1");
  EXPECT_EQ(Canon(T::kIpv6, "[2001:db8::1]"), "2001:db8::1");
  EXPECT_EQ(Canon(T::kIpv6, "::"), "::");
}

TEST(Canonicalize, Ipv4MappedIpv6BecomesIpv4) {
  EXPECT_EQ(Canon(T::kIpv6, "::FFFF:1.2.3.4"), "1.2.3.4");
  EXPECT_EQ(Canon(T::kIpv6, "[::ffff:1.2.3.4]"), "1.2.3.4");
  EXPECT_EQ(Canon(T::kIpv6, "::ffff:0102:0304"), "1.2.3.4");
}

TEST(Canonicalize, Ipv6RejectsZoneAndJunk) {
  ExpectInvalid(T::kIpv6, "fe80::1%eth0", "zone id");
  ExpectInvalid(T::kIpv6, "2001:db8:::1", "not an IPv6");
  ExpectInvalid(T::kIpv6, "1.2.3.4", "IPv4");
  ExpectInvalid(T::kIpv6, "[2001:db8::1", "not an IPv6");
}

TEST(Canonicalize, CidrClearsHostBitsAndAlwaysHasLength) {
  EXPECT_EQ(Canon(T::kCidr, "10.1.2.3/8"), "10.0.0.0/8");
  EXPECT_EQ(Canon(T::kCidr, "192.168.1.77/24"), "192.168.1.0/24");
  EXPECT_EQ(Canon(T::kCidr, "192.168.1.77"), "192.168.1.77/32");
  EXPECT_EQ(Canon(T::kCidr, "0.0.0.0/0"), "0.0.0.0/0");
  EXPECT_EQ(Canon(T::kCidr, "2001:DB8:1234::1/32"), "2001:db8::/32");
  EXPECT_EQ(Canon(T::kCidr, "2001:db8::1"), "2001:db8::1/128");
  EXPECT_EQ(Canon(T::kCidr, "::ffff:10.1.2.3/104"), "10.0.0.0/8");
}

TEST(Canonicalize, CidrRejectsBadLengths) {
  ExpectInvalid(T::kCidr, "10.0.0.0/33", "exceeds 32");
  ExpectInvalid(T::kCidr, "2001:db8::/129", "exceeds 128");
  ExpectInvalid(T::kCidr, "10.0.0.0/", "prefix length");
  ExpectInvalid(T::kCidr, "10.0.0.0/08", "leading zero");
  ExpectInvalid(T::kCidr, "10.0.0.0/x", "prefix length");
  ExpectInvalid(T::kCidr, "010.0.0.0/8", "leading zero");
  ExpectInvalid(T::kCidr, "evil.com/24", "not an IP");
}

TEST(Canonicalize, DomainLowerCaseAndTrailingDotRemoved) {
  EXPECT_EQ(Canon(T::kDomain, "WWW.Evil.COM."), "www.evil.com");
  EXPECT_EQ(Canon(T::kDomain, "_dmarc.example.org"), "_dmarc.example.org");
  EXPECT_EQ(Canon(T::kDomain, "xn--bcher-kva.example"), "xn--bcher-kva.example");
}

TEST(Canonicalize, DomainIdnBecomesPunycode) {
  EXPECT_EQ(Canon(T::kDomain, "bücher.example"), "xn--bcher-kva.example");
  EXPECT_EQ(Canon(T::kDomain, "BÜCHER.example"), "xn--bcher-kva.example");
  EXPECT_EQ(Canon(T::kDomain, "пример.рф"), "xn--e1afmkfd.xn--p1ai");
}

TEST(Canonicalize, DomainRejectsHostileNames) {
  ExpectInvalid(T::kDomain, "evil..com", "empty label");
  ExpectInvalid(T::kDomain, "evil.com..", "empty label");
  ExpectInvalid(T::kDomain, ".", "empty domain");
  ExpectInvalid(T::kDomain, "evil com", "invalid character ' '");
  ExpectInvalid(T::kDomain, "evil.com:80", "invalid character ':'");
  ExpectInvalid(T::kDomain, "*.evil.com", "invalid character '*'");
  ExpectInvalid(T::kDomain, std::string(64, 'a') + ".com", "kMaxLabelBytes");
  std::string longname;
  for (int i = 0; i < 60; ++i) longname += "abcd.";
  ExpectInvalid(T::kDomain, longname + "com", "kMaxDomainBytes");
  ExpectInvalid(T::kDomain, "1.2.3.4", "IP address");
  ExpectInvalid(T::kDomain, "1.2.3.04", "numeric top-level");
  ExpectInvalid(T::kDomain, "evil[.]com", "invalid character '['");
}

TEST(Canonicalize, UrlSchemeAndHostNormalisedPathKept) {
  EXPECT_EQ(Canon(T::kUrl, "HTTP://WWW.Evil.COM/Gate.PHP?ID=A#X"),
            "http://www.evil.com/Gate.PHP?ID=A#X");
  EXPECT_EQ(Canon(T::kUrl, "https://evil.com./a"), "https://evil.com/a");
  EXPECT_EQ(Canon(T::kUrl, "http://user:Pw@Evil.com/"), "http://user:Pw@evil.com/");
}

TEST(Canonicalize, UrlDefaultPortDroppedOtherPortsKept) {
  EXPECT_EQ(Canon(T::kUrl, "http://evil.com:80/a"), "http://evil.com/a");
  EXPECT_EQ(Canon(T::kUrl, "https://evil.com:443/a"), "https://evil.com/a");
  EXPECT_EQ(Canon(T::kUrl, "ftp://evil.com:21/a"), "ftp://evil.com/a");
  EXPECT_EQ(Canon(T::kUrl, "http://evil.com:443/a"), "http://evil.com:443/a");
  EXPECT_EQ(Canon(T::kUrl, "http://evil.com:0080/a"), "http://evil.com/a");
  EXPECT_EQ(Canon(T::kUrl, "http://evil.com:8080"), "http://evil.com:8080/");
}

TEST(Canonicalize, UrlEmptyPathBecomesSlash) {
  EXPECT_EQ(Canon(T::kUrl, "http://evil.com"), "http://evil.com/");
  EXPECT_EQ(Canon(T::kUrl, "http://evil.com?q=1"), "http://evil.com/?q=1");
}

TEST(Canonicalize, UrlWithoutSchemeReadAsHttp) {
  EXPECT_EQ(Canon(T::kUrl, "Evil.com/gate.php"), "http://evil.com/gate.php");
  EXPECT_EQ(Canon(T::kUrl, "//evil.com/x"), "http://evil.com/x");
}

TEST(Canonicalize, UrlIpHosts) {
  EXPECT_EQ(Canon(T::kUrl, "http://[2001:DB8::1]:8080/x"), "http://[2001:db8::1]:8080/x");
  EXPECT_EQ(Canon(T::kUrl, "http://[::ffff:1.2.3.4]/x"), "http://1.2.3.4/x");
  EXPECT_EQ(Canon(T::kUrl, "http://176.31.112.10:80/x"), "http://176.31.112.10/x");
  EXPECT_EQ(Canon(T::kUrl, "http://bücher.example/ä"), "http://xn--bcher-kva.example/ä");
}

TEST(Canonicalize, UrlRejectsHostile) {
  ExpectInvalid(T::kUrl, "http:///path", "no host");
  ExpectInvalid(T::kUrl, "http://evil.com:99999/", "port out of range");
  ExpectInvalid(T::kUrl, "http://evil.com:8o/", "invalid port");
  ExpectInvalid(T::kUrl, "http://[::1/", "unterminated");
  ExpectInvalid(T::kUrl, "http://010.1.1.1/", "leading zero");
  ExpectInvalid(T::kUrl, "http://evil com/", "whitespace");
  ExpectInvalid(T::kUrl, "1http://evil.com/", "scheme");
  ExpectInvalid(T::kUrl, "http://evil..com/", "empty label");
}

TEST(Canonicalize, EmailLowerCaseDomainCanonical) {
  EXPECT_EQ(Canon(T::kEmail, "John.Doe@Evil.COM."), "john.doe@evil.com");
  EXPECT_EQ(Canon(T::kEmail, "a@bücher.example"), "a@xn--bcher-kva.example");
  ExpectInvalid(T::kEmail, "evil.com", "no '@'");
  ExpectInvalid(T::kEmail, "@evil.com", "empty local part");
  ExpectInvalid(T::kEmail, "a b@evil.com", "invalid character ' '");
  ExpectInvalid(T::kEmail, "a@[1.2.3.4]", "address literal");
  ExpectInvalid(T::kEmail, "a@evil..com", "email domain: empty label");
}

TEST(Canonicalize, HashesValidatedAndLowerCased) {
  EXPECT_EQ(Canon(T::kMd5, "D41D8CD98F00B204E9800998ECF8427E"), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(Canon(T::kSha1, "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
            "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(Canon(T::kSha256, std::string(64, 'A')), std::string(64, 'a'));
  EXPECT_EQ(Canon(T::kSha512, std::string(128, 'F')), std::string(128, 'f'));
}

TEST(Canonicalize, HashesRejectWrongLengthAndNonHex) {
  ExpectInvalid(T::kMd5, std::string(31, 'a'), "must be 32 hex digits, got 31");
  ExpectInvalid(T::kMd5, std::string(33, 'a'), "got 33");
  ExpectInvalid(T::kSha1, std::string(39, 'a'), "must be 40");
  ExpectInvalid(T::kSha256, std::string(63, 'a') + "g", "non-hex character at offset 63");
  ExpectInvalid(T::kSha512, std::string(64, 'a'), "must be 128");
  ExpectInvalid(T::kMd5, "0x" + std::string(30, 'a'), "non-hex");
}

TEST(Canonicalize, X509FingerprintColonsRemoved) {
  EXPECT_EQ(
      Canon(T::kX509Fingerprint, "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01"),
      "abcdef0123456789abcdef0123456789abcdef01");
  ExpectInvalid(T::kX509Fingerprint, "AB:CD", "32, 40 or 64");
}

TEST(Canonicalize, SsdeepValidated) {
  const std::string s =
      "96:s4Ud1Lj96tHHlZDrwciQmA+4uy1I0G4HYuL8N3TzS8QsO/"
      "wqWXLcMSx:sF1LjEtHHlZDrwciQmA+4uy1I0G4HYuL8N3TzS8QsO/wqWXLcMSx";
  EXPECT_EQ(Canon(T::kSsdeep, " " + s + " "), s);
  EXPECT_EQ(Canon(T::kSsdeep, "3::"), "3::");  // the ssdeep of empty input
  ExpectInvalid(T::kSsdeep, "97:abc:def", "not 3 * 2^k");
  ExpectInvalid(T::kSsdeep, "0:abc:def", "leading zero");
  ExpectInvalid(T::kSsdeep, "96:abc", "blocksize:sig1:sig2");
  ExpectInvalid(T::kSsdeep, "96:abc:def:ghi", "blocksize:sig1:sig2");
  ExpectInvalid(T::kSsdeep, "96:ab-c:def", "invalid character '-'");
  ExpectInvalid(T::kSsdeep, "96:" + std::string(65, 'a') + ":b", "longer than 64");
  ExpectInvalid(T::kSsdeep, "x6:abc:def", "block size");
}

TEST(Canonicalize, TlshWithOrWithoutT1Prefix) {
  const std::string body(70, 'A');
  const std::string want = "T1" + std::string(70, 'a');
  EXPECT_EQ(Canon(T::kTlsh, body), want);
  EXPECT_EQ(Canon(T::kTlsh, "T1" + body), want);
  EXPECT_EQ(Canon(T::kTlsh, "t1" + body), want);
  ExpectInvalid(T::kTlsh, "T2" + body, "got 72");
  ExpectInvalid(T::kTlsh, std::string(69, 'a'), "got 69");
  ExpectInvalid(T::kTlsh, "TNULL", "TNULL");
  ExpectInvalid(T::kTlsh, "T1" + std::string(69, 'a') + "z", "non-hex");
}

TEST(Canonicalize, EmbeddedNulIsNeverCutOff) {
  // Found by canonicalize_fuzzer: inet_pton stopped at the NUL and accepted the prefix.
  using namespace std::string_literals;
  ExpectInvalid(T::kIpv6, "::ffff:1.2.3.4\0junk"s, "not an IPv6");
  ExpectInvalid(T::kIpv4, "1.2.3.4\0"s, "not an IPv4");
  ExpectInvalid(T::kDomain,
                "b\xc3\xbc"
                "cher\0.example"s,
                "IDN conversion failed");
  EXPECT_EQ(CanonicalType(T::kIpv6, "[::FFFF:1.2.3.4\0\0/]"s), T::kIpv6);
}

TEST(Canonicalize, CveUpperCasedOtherTypesTrimmed) {
  EXPECT_EQ(Canon(T::kCve, "cve-2021-44228"), "CVE-2021-44228");
  EXPECT_EQ(Canon(T::kFilename, "  Invoice.PDF.exe "), "Invoice.PDF.exe");
  EXPECT_EQ(Canon(T::kMutex, "Global\\MyMutex"), "Global\\MyMutex");
  ExpectInvalid(T::kMutex, " \t", "empty");
}

TEST(Canonicalize, RejectsOversizedValueNamingTheLimit) {
  ExpectInvalid(T::kFilename, std::string(9000, 'a'), "kMaxIndicatorBytes");
}

TEST(CanonicalType, SixtyFourHexIsSha256WhateverTheLabel) {
  const std::string h64(64, 'a');
  EXPECT_EQ(CanonicalType(T::kMd5, h64), T::kSha256);
  EXPECT_EQ(CanonicalType(T::kSha1, h64), T::kSha256);
  EXPECT_EQ(CanonicalType(T::kSha512, h64), T::kSha256);
  EXPECT_EQ(CanonicalType(T::kImphash, h64), T::kSha256);
  EXPECT_EQ(CanonicalType(T::kSha256, std::string(32, 'a')), T::kMd5);
  EXPECT_EQ(CanonicalType(T::kMd5, std::string(40, 'a')), T::kSha1);
  EXPECT_EQ(CanonicalType(T::kMd5, std::string(31, 'a')), T::kMd5);  // stays, then fails
  EXPECT_EQ(CanonicalType(T::kX509Fingerprint, h64), T::kX509Fingerprint);
}

TEST(CanonicalType, IpsAndNetworksFixed) {
  EXPECT_EQ(CanonicalType(T::kIpv6, "::ffff:1.2.3.4"), T::kIpv4);
  EXPECT_EQ(CanonicalType(T::kIpv6, "[::ffff:1.2.3.4]"), T::kIpv4);
  EXPECT_EQ(CanonicalType(T::kIpv4, "2001:db8::1"), T::kIpv6);
  EXPECT_EQ(CanonicalType(T::kIpv4, "10.0.0.0/8"), T::kCidr);
  EXPECT_EQ(CanonicalType(T::kDomain, "1.2.3.4"), T::kIpv4);
  EXPECT_EQ(CanonicalType(T::kDomain, "2001:db8::1"), T::kIpv6);
  EXPECT_EQ(CanonicalType(T::kDomain, "http://evil.com/"), T::kUrl);
  EXPECT_EQ(CanonicalType(T::kDomain, "evil.com"), T::kDomain);
  EXPECT_EQ(CanonicalType(T::kIpv4, "010.1.1.1"), T::kIpv4);
}

TEST(RegisteredDomain, UsesPublicSuffixList) {
  EXPECT_EQ(RegisteredDomain("mail.evil.co.uk"), "evil.co.uk");
  EXPECT_EQ(RegisteredDomain("a.b.evil.com"), "evil.com");
  EXPECT_EQ(RegisteredDomain("evil.com"), "evil.com");
  EXPECT_EQ(RegisteredDomain("foo.blogspot.com"), "foo.blogspot.com");  // private suffix
  EXPECT_EQ(RegisteredDomain("co.uk"), std::nullopt);
  EXPECT_EQ(RegisteredDomain("com"), std::nullopt);
  EXPECT_EQ(RegisteredDomain("evil.notarealtld"), std::nullopt);
  EXPECT_EQ(RegisteredDomain("1.2.3.4"), std::nullopt);
  EXPECT_EQ(RegisteredDomain("2001:db8::1"), std::nullopt);
  EXPECT_EQ(RegisteredDomain(""), std::nullopt);
}

// ".za" and ".ck" have no rule of their own in the Public Suffix List, only second-level rules
// ("co.za") or a wildcard ("*.ck"): names under them are still real names.
TEST(RegisteredDomain, TldsListedOnlyBelowThemselves) {
  EXPECT_EQ(RegisteredDomain("mail.evil.co.za"), "evil.co.za");
  EXPECT_EQ(RegisteredDomain("evil.co.za"), "evil.co.za");
  EXPECT_EQ(RegisteredDomain("co.za"), std::nullopt);           // a suffix, nothing registered
  EXPECT_EQ(RegisteredDomain("www.evil.za"), std::nullopt);     // no "za" and no "evil.za" rule
  EXPECT_EQ(RegisteredDomain("a.evil.gov.ck"), "evil.gov.ck");  // "*.ck"
  EXPECT_EQ(DetectType("evil.co.za"), T::kDomain);
  EXPECT_EQ(DetectType("update.gov.ck"), T::kDomain);
  EXPECT_EQ(DetectType("report.pdf.za"), std::nullopt);
}

TEST(DetectType, RecognisesEachKind) {
  EXPECT_EQ(DetectType("176.31.112.10"), T::kIpv4);
  EXPECT_EQ(DetectType("2001:db8::1"), T::kIpv6);
  EXPECT_EQ(DetectType("::ffff:1.2.3.4"), T::kIpv4);
  EXPECT_EQ(DetectType("10.0.0.0/8"), T::kCidr);
  EXPECT_EQ(DetectType("2001:db8::/32"), T::kCidr);
  EXPECT_EQ(DetectType("http://evil.com/a"), T::kUrl);
  EXPECT_EQ(DetectType("a@evil.com"), T::kEmail);
  EXPECT_EQ(DetectType(std::string(32, 'a')), T::kMd5);
  EXPECT_EQ(DetectType(std::string(40, 'a')), T::kSha1);
  EXPECT_EQ(DetectType(std::string(64, 'a')), T::kSha256);
  EXPECT_EQ(DetectType(std::string(128, 'a')), T::kSha512);
  EXPECT_EQ(DetectType(std::string(70, 'a')), T::kTlsh);
  EXPECT_EQ(DetectType("T1" + std::string(70, 'a')), T::kTlsh);
  EXPECT_EQ(DetectType("3:abc:def"), T::kSsdeep);
  EXPECT_EQ(DetectType("CVE-2017-11882"), T::kCve);
  EXPECT_EQ(DetectType("evil.co.uk"), T::kDomain);
  EXPECT_EQ(DetectType("Evil.COM"), T::kDomain);
}

TEST(DetectType, RejectsNonIndicators) {
  EXPECT_EQ(DetectType(""), std::nullopt);
  EXPECT_EQ(DetectType("hello"), std::nullopt);
  EXPECT_EQ(DetectType("report.docx"), std::nullopt);       // .docx is no public suffix
  EXPECT_EQ(DetectType("evil.notarealtld"), std::nullopt);  // no "*" rule
  EXPECT_EQ(DetectType("010.1.2.3"), std::nullopt);
  EXPECT_EQ(DetectType(std::string(33, 'a')), std::nullopt);
  EXPECT_EQ(DetectType("a@b"), std::nullopt);
}

}  // namespace
}  // namespace kinship::normalize
