// util::Pipeline (include/kinship/parallel.h), which the store's read-ahead is built on.
#include "kinship/parallel.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace kinship::util {
namespace {

class PipelineTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override { setenv("KINSHIP_THREADS", GetParam(), 1); }
  void TearDown() override { unsetenv("KINSHIP_THREADS"); }
};

TEST_P(PipelineTest, ConsumesEveryItemInOrderAndReturnsWhatTheProducerReturned) {
  std::vector<int> got;
  const std::string r = Pipeline<int>(
      3,
      [](const std::function<bool(int&&)>& emit) {
        for (int i = 0; i < 1000; ++i) {
          if (!emit(int(i))) return std::string("stopped");
        }
        return std::string("all");
      },
      [&](int& v) {
        got.push_back(v);
        return true;
      });
  EXPECT_EQ(r, "all");
  ASSERT_EQ(got.size(), 1000u);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(got[i], i);
}

TEST_P(PipelineTest, AConsumerThatStopsStopsTheProducer) {
  std::vector<int> got;
  int emitted = 0;
  const std::string r = Pipeline<int>(
      2,
      [&](const std::function<bool(int&&)>& emit) {
        for (int i = 0; i < 1000; ++i) {
          if (!emit(int(i))) return std::string("stopped");
          ++emitted;
        }
        return std::string("all");
      },
      [&](int& v) {
        got.push_back(v);
        return got.size() < 5;
      });
  EXPECT_EQ(r, "stopped");
  EXPECT_THAT(got, ::testing::ElementsAre(0, 1, 2, 3, 4));
  EXPECT_LE(emitted, 5 + 2 + 1);  // at most `ahead` items beyond the last one consumed
}

TEST_P(PipelineTest, NothingToProduce) {
  int consumed = 0;
  const int r = Pipeline<int>(
      4, [](const std::function<bool(int&&)>&) { return 7; },
      [&](int&) {
        ++consumed;
        return true;
      });
  EXPECT_EQ(r, 7);
  EXPECT_EQ(consumed, 0);
}

// "1": everything on the caller's thread; "2": a producer thread.
INSTANTIATE_TEST_SUITE_P(Workers, PipelineTest, ::testing::Values("1", "2"));

}  // namespace
}  // namespace kinship::util
