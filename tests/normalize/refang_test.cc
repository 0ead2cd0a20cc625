// Refang: every defanging form analysts use, and values it must leave alone.
#include <string>

#include "gtest/gtest.h"
#include "kinship/normalize.h"

namespace kinship::normalize {
namespace {

TEST(Refang, UndoesDefangedSchemes) {
  EXPECT_EQ(Refang("hxxp://evil[.]com/a"), "http://evil.com/a");
  EXPECT_EQ(Refang("hXXps://evil.com/"), "https://evil.com/");
  EXPECT_EQ(Refang("HXXP://evil.com/"), "http://evil.com/");
  EXPECT_EQ(Refang("fxp://evil.com/x"), "ftp://evil.com/x");
  EXPECT_EQ(Refang("hxxxp://evil.com/"), "http://evil.com/");
  EXPECT_EQ(Refang("hxxp[:]//evil.com"), "http://evil.com");
  EXPECT_EQ(Refang("hxxps[://]evil.com"), "https://evil.com");
  EXPECT_EQ(Refang("http[:]//evil[.]com"), "http://evil.com");
}

TEST(Refang, UndoesDefangedDots) {
  EXPECT_EQ(Refang("1.2.3[.]4"), "1.2.3.4");
  EXPECT_EQ(Refang("evil(.)com"), "evil.com");
  EXPECT_EQ(Refang("evil{.}com"), "evil.com");
  EXPECT_EQ(Refang("evil[dot]com"), "evil.com");
  EXPECT_EQ(Refang("evil(DOT)com"), "evil.com");
  EXPECT_EQ(Refang("evil[ . ]com"), "evil.com");
  EXPECT_EQ(Refang("evil dot com"), "evil.com");
  EXPECT_EQ(Refang("evil\\.com"), "evil.com");
  EXPECT_EQ(Refang("a[.]b[.]c[.]d"), "a.b.c.d");
}

TEST(Refang, UndoesDefangedAtAndColon) {
  EXPECT_EQ(Refang("user[@]evil.com"), "user@evil.com");
  EXPECT_EQ(Refang("user[at]evil[.]com"), "user@evil.com");
  EXPECT_EQ(Refang("user(at)evil.com"), "user@evil.com");
  EXPECT_EQ(Refang("user(@)evil.com"), "user@evil.com");
  EXPECT_EQ(Refang("2001:db8[:]:1"), "2001:db8::1");
}

TEST(Refang, StripsSurroundingBracketsAndQuotes) {
  EXPECT_EQ(Refang("  \"evil.com\" "), "evil.com");
  EXPECT_EQ(Refang("<http://evil.com/>"), "http://evil.com/");
  EXPECT_EQ(Refang("[::ffff:1.2.3.4]"), "::ffff:1.2.3.4");
  EXPECT_EQ(Refang("'evil[.]com'"), "evil.com");
  EXPECT_EQ(Refang("[.]"), ".");
}

TEST(Refang, LeavesCleanValuesUnchanged) {
  for (const char* v : {"http://evil.com/a", "176.31.112.10", "d41d8cd98f00b204e9800998ecf8427e",
                        "user@example.com", "C:\\Windows\\x.exe", "a(b)c", "[a] and [b]",
                        "xxhash.example", "hxxpfoo", "sandbox dotnet", "Global\\{A-B}", ""}) {
    EXPECT_EQ(Refang(v), v) << v;
  }
}

TEST(Refang, DoesNotRewriteSchemeInsideWords) {
  EXPECT_EQ(Refang("ahxxp://x"), "ahxxp://x");
  EXPECT_EQ(Refang("http://evil.com/hxxp:"), "http://evil.com/hxxp:");
}

}  // namespace
}  // namespace kinship::normalize
