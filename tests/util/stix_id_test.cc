#include "kinship/stix_id.h"

#include <string>

#include "gtest/gtest.h"

namespace kinship::stix {
namespace {

TEST(UuidV5, MatchesTheRfc4122Construction) {
  // Python's uuid.uuid5(uuid.NAMESPACE_DNS, "python.org"), the usual check of version 5.
  auto u = UuidV5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "python.org");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(*u, "886313e1-3b8a-5372-9b90-0c9aee199e5d");
  // Upper-case namespaces read the same; other names give other UUIDs.
  EXPECT_EQ(*UuidV5("6BA7B810-9DAD-11D1-80B4-00C04FD430C8", "python.org"), *u);
  EXPECT_NE(*UuidV5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "python.org."), *u);
}

TEST(UuidV5, RejectsANamespaceThatIsNoUuid) {
  for (const char* bad :
       {"", "6ba7b810-9dad-11d1-80b4-00c04fd430c", "not-a-uuid-at-all-not-a-uuid-at-all",
        "6ba7b810-9dad-11d1-80b4-00c04fd430c8x"}) {
    auto u = UuidV5(bad, "x");
    ASSERT_FALSE(u.ok()) << bad;
    EXPECT_EQ(u.status().code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(KinshipId, IsATypedVersion5IdOneNameAlwaysGives) {
  const std::string id = KinshipId("intrusion-set", "actor:G0007");
  ASSERT_EQ(id.size(), std::string("intrusion-set--").size() + 36);
  EXPECT_EQ(id.rfind("intrusion-set--", 0), 0u);
  EXPECT_EQ(id[15 + 14], '5');                                          // the version nibble
  EXPECT_NE(std::string("89ab").find(id[15 + 19]), std::string::npos);  // RFC 4122 variant
  EXPECT_EQ(id, KinshipId("intrusion-set", "actor:G0007"));
  EXPECT_NE(id, KinshipId("intrusion-set", "actor:G0016"));
  EXPECT_EQ(KinshipId("identity", "kinship").substr(10), *UuidV5(kKinshipNamespace, "kinship"));
}

}  // namespace
}  // namespace kinship::stix
