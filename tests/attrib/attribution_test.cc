#include "kinship/attribution.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "kinship/similarity.h"
#include "testing/incidents.h"

namespace kinship::attrib {
namespace {

using ::kinship::testing::Ind;

Incident Inc(const std::string& id, std::vector<Indicator> indicators) {
  Incident inc;
  inc.id = id;
  inc.indicators = std::move(indicators);
  return inc;
}

TEST(LikelihoodTerm, MapsEachIcd203Band) {
  EXPECT_EQ(LikelihoodTerm(0.03), "almost no chance");
  EXPECT_EQ(LikelihoodTerm(0.10), "very unlikely");
  EXPECT_EQ(LikelihoodTerm(0.30), "unlikely");
  EXPECT_EQ(LikelihoodTerm(0.50), "roughly even chance");
  EXPECT_EQ(LikelihoodTerm(0.55), "roughly even chance");
  EXPECT_EQ(LikelihoodTerm(0.74), "likely");
  EXPECT_EQ(LikelihoodTerm(0.90), "very likely");
  EXPECT_EQ(LikelihoodTerm(0.97), "almost certain");
}

TEST(LikelihoodTerm, ClampsOutOfRangeProbabilities) {
  EXPECT_EQ(LikelihoodTerm(-1), "almost no chance");
  EXPECT_EQ(LikelihoodTerm(7), "almost certain");
}

TEST(ConfidenceName, NamesTheThreeLevels) {
  EXPECT_EQ(ConfidenceName(Confidence::kLow), "low");
  EXPECT_EQ(ConfidenceName(Confidence::kModerate), "moderate");
  EXPECT_EQ(ConfidenceName(Confidence::kHigh), "high");
}

std::vector<ActorProfile> Profiles() {
  // G1 uses everything common plus a rare tool; G2 a small focused profile; G3 huge.
  std::vector<ActorProfile> p;
  p.push_back({"G1", "One", {"T1059", "T1566", "T1566.001"}, {"S0001"}});
  p.push_back({"G2", "Two", {"T1059", "T1027"}, {"S0002"}});
  std::vector<std::string> many;
  for (int i = 1000; i < 1100; ++i) many.push_back("T" + std::to_string(i));
  many.push_back("T1059");
  many.push_back("T1027");
  p.push_back({"G3", "Three", many, {"S0003"}});
  return p;
}

TEST(ProfileMatcher, RareSoftwareOutranksCommonTechnique) {
  ProfileMatcher m(Profiles());
  auto r = m.Match({"T1059"}, {"S0002"}, 10);
  ASSERT_FALSE(r.empty());
  EXPECT_EQ(r[0].actor_id, "G2");
  EXPECT_GT(r[0].software_score, 0);
}

TEST(ProfileMatcher, LargeProfileDoesNotWinOnSharedFeatureAlone) {
  ProfileMatcher m(Profiles());
  // T1027 is in G2 (small) and G3 (huge): the focused profile explains it better.
  auto r = m.Match({"T1027"}, {}, 10);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].actor_id, "G2");
  EXPECT_EQ(r[1].actor_id, "G3");
}

TEST(ProfileMatcher, SubTechniqueMatchesParentWithLessCredit) {
  ProfileMatcher m({{"G1", "One", {"T1566.001"}, {}},
                    {"G2", "Two", {"T1566"}, {}},
                    {"G3", "Three", {"T1027"}, {}}});
  auto r = m.Match({"T1566.001"}, {}, 10);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].actor_id, "G1");
  EXPECT_EQ(r[1].actor_id, "G2");
  EXPECT_LT(r[1].score, r[0].score);
}

TEST(ProfileMatcher, PosteriorSaysWhetherAMatchStandsOutAmongAllActors) {
  std::vector<ActorProfile> p = Profiles();
  for (int i = 0; i < 20; ++i) p.push_back({"X" + std::to_string(i), "", {"T1059"}, {}});
  p.push_back({"Y", "", {"T1027"}, {}});
  ProfileMatcher m(p);
  // A rare tool: one actor stands out, its posterior near 1; the others' are tiny.
  auto tool = m.Match({"T1059"}, {"S0002"}, 50);
  ASSERT_FALSE(tool.empty());
  EXPECT_EQ(tool[0].actor_id, "G2");
  EXPECT_GT(tool[0].posterior, 0.9);
  double sum = 0;
  for (const ProfileMatch& x : tool) sum += x.posterior;
  EXPECT_LE(sum, 1.0 + 1e-9);
  // A technique 23 of 24 actors use: matched, but no actor stands out, and the one actor that
  // matches nothing still takes its share of the posterior.
  auto common = m.Match({"T1059"}, {}, 50);
  ASSERT_EQ(common.size(), 23u);
  double common_sum = 0;
  for (const ProfileMatch& x : common) {
    EXPECT_LT(x.posterior, 0.2);
    common_sum += x.posterior;
  }
  EXPECT_LT(common_sum, 1.0);
}

TEST(ProfileMatcher, ASharedToolFavoursASmallProfileOnlyByTheSizeRatio) {
  // One tool that two groups use: "Small" lists it alone, "Big" among four tools. Other groups
  // make the tool rare overall. The match against each is strong, and between the two the
  // likelihoods differ by their profile sizes, as the tool's share of each profile (about 4:1
  // here). Weighting software also raised that ratio to the fourth power (about 200:1): a
  // commodity RAT alone named the one group whose only listed tool it is (ATT&CK's PoisonIvy:
  // Moafee, 59 %).
  std::vector<ActorProfile> p = {{"Small", "", {"T1059"}, {"S1"}},
                                 {"Big", "", {"T1059"}, {"S1", "S2", "S3", "S4"}}};
  for (int i = 0; i < 30; ++i) {
    p.push_back({"X" + std::to_string(i), "", {"T1027"}, {"S" + std::to_string(10 + i)}});
  }
  ProfileMatcher m(p);
  auto r = m.Match({}, {"S1"}, 10);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].actor_id, "Small");
  EXPECT_EQ(r[1].actor_id, "Big");
  const double ratio = r[0].posterior / r[1].posterior;
  EXPECT_GT(ratio, 1.5);
  EXPECT_LT(ratio, 5.0);
  // Both stand out against the groups that do not use it.
  EXPECT_GT(r[0].posterior + r[1].posterior, 0.95);
}

TEST(ProfileMatcher, NoSharedFeatureGivesNoMatch) {
  ProfileMatcher m(Profiles());
  EXPECT_TRUE(m.Match({"T9999"}, {"S9999"}, 10).empty());
  EXPECT_TRUE(m.TfidfCosine({"T9999"}, {}, 10).empty());
}

TEST(ProfileMatcher, TfidfCosineRanksIdenticalProfileFirst) {
  ProfileMatcher m(Profiles());
  auto r = m.TfidfCosine({"T1059", "T1027"}, {"S0002"}, 10);
  ASSERT_FALSE(r.empty());
  EXPECT_EQ(r[0].actor_id, "G2");
  EXPECT_NEAR(r[0].score, 1.0, 1e-9);
}

NeighbourIndex SmallIndex() {
  NeighbourIndex idx;
  idx.Add(Inc("a1", {Ind(IndicatorType::kDomain, "rare-c2.example"),
                     Ind(IndicatorType::kIpv4, "10.9.9.9")}),
          "G1");
  idx.Add(Inc("b1", {Ind(IndicatorType::kDomain, "other.example"),
                     Ind(IndicatorType::kIpv4, "10.9.9.8")}),
          "G2");
  for (int i = 0; i < 20; ++i) {
    idx.Add(Inc("filler" + std::to_string(i),
                {Ind(IndicatorType::kFilename, "common.exe"),
                 Ind(IndicatorType::kDomain, "f" + std::to_string(i) + ".example")}),
            i % 2 ? "G2" : "G3");
  }
  idx.Finalize();
  return idx;
}

TEST(NeighbourIndex, RareSharedIndicatorFindsItsIncident) {
  NeighbourIndex idx = SmallIndex();
  auto n = idx.Neighbours(Inc("q", {Ind(IndicatorType::kDomain, "rare-c2.example"),
                                    Ind(IndicatorType::kFilename, "common.exe")}),
                          5);
  ASSERT_FALSE(n.empty());
  EXPECT_EQ(n[0].incident_id, "a1");
  EXPECT_EQ(n[0].actor_id, "G1");
  EXPECT_GT(n[0].probability, n.back().probability);
  ASSERT_FALSE(n[0].shared.empty());
  EXPECT_EQ(n[0].shared[0].feature, "domain:rare-c2.example");
  EXPECT_EQ(n[0].shared[0].family, Family::kIndicator);
}

TEST(NeighbourIndex, NeverReturnsTheQueryItself) {
  NeighbourIndex idx = SmallIndex();
  auto n = idx.Neighbours(Inc("a1", {Ind(IndicatorType::kDomain, "rare-c2.example")}), 5);
  for (const Neighbour& x : n) EXPECT_NE(x.incident_id, "a1");
  for (const auto& [actor, v] :
       idx.ExactOverlapVote(Inc("a1", {Ind(IndicatorType::kDomain, "rare-c2.example")}))) {
    EXPECT_NE(actor, "G1");
  }
}

TEST(NeighbourIndex, WarninglistedIndicatorWeighsNothing) {
  NeighbourIndex idx = SmallIndex();
  Indicator benign = Ind(IndicatorType::kDomain, "rare-c2.example");
  benign.warninglists.push_back("top-sites");
  EXPECT_TRUE(idx.Neighbours(Inc("q", {benign}), 5).empty());
}

TEST(NeighbourIndex, BaselinesVoteForSharedIndicators) {
  NeighbourIndex idx = SmallIndex();
  Incident q = Inc("q", {Ind(IndicatorType::kIpv4, "10.9.9.8")});
  auto vote = idx.ExactOverlapVote(q);
  ASSERT_EQ(vote.size(), 1u);
  EXPECT_EQ(vote[0].first, "G2");
  auto cos = idx.TfidfCosineVote(q);
  ASSERT_EQ(cos.size(), 1u);
  EXPECT_EQ(cos[0].first, "G2");
}

TEST(IncidentFeatures, DerivedAndBehaviourFeaturesAreNotStated) {
  Incident inc =
      Inc("x", {Ind(IndicatorType::kDomain, "a.actblues.com"),
                Ind(IndicatorType::kDomain, "actblues.com", Derivation::kRegisteredDomain)});
  inc.techniques.push_back({"T1566.001", ""});
  auto f = IncidentFeatures(inc);
  std::vector<std::string> keys;
  for (const Feature& x : f) keys.push_back(x.key);
  EXPECT_THAT(keys, ::testing::IsSupersetOf({"domain:a.actblues.com", "regdom:actblues.com",
                                             "ng:actb", "tech:T1566.001", "tech:T1566"}));
  for (const Feature& x : f) EXPECT_EQ(x.stated, x.key == "domain:a.actblues.com") << x.key;
}

Neighbour N(const std::string& id, const std::string& actor, double p, Family family) {
  return {id, actor, p, {{family, "x:" + id, id, 5.0}}};
}

TEST(Attributor, AbstainsWithoutEvidence) {
  Attributor a(nullptr, {}, Model::Default());
  Result r = a.Attribute(Inc("q", {}), {});
  EXPECT_TRUE(r.abstained);
  EXPECT_TRUE(r.candidates.empty());
  EXPECT_EQ(r.confidence, Confidence::kLow);
}

TEST(Attributor, AbstainsOnWeakSupport) {
  Attributor a(nullptr, {}, Model::Default());
  Result r = a.Attribute(
      Inc("q", {}), {N("n1", "G1", 0.1, Family::kNaming), N("n2", "G2", 0.09, Family::kNaming)});
  EXPECT_TRUE(r.abstained);
  ASSERT_FALSE(r.candidates.empty());
  EXPECT_LT(r.candidates[0].probability, Model::Default().abstain_below);
}

TEST(Attributor, AbstentionReasonShowsTheProbabilityUnderTheThreshold) {
  // The demo's campaign: 0.8354 against the campaign stage's 0.836 read "below 83 %" beside a
  // candidate printed as 84 %.
  EXPECT_EQ(AbstentionReason(0.8354, 0.836),
            "no known actor fits: best candidate 83.5 %, under the 83.6 % threshold");
  EXPECT_EQ(AbstentionReason(0.83549, 0.83551),
            "no known actor fits: best candidate 83.5 %, under the 83.6 % threshold");
  EXPECT_EQ(AbstentionReason(0.0, 0.611),
            "no known actor fits: best candidate 0.0 %, under the 61.1 % threshold");
  // The result says it: a weak candidate's reason names its probability and the model's threshold.
  Attributor a(nullptr, {}, Model::Default());
  Result r = a.Attribute(Inc("q", {}), {N("n1", "G1", 0.1, Family::kNaming)});
  ASSERT_TRUE(r.abstained);
  ASSERT_FALSE(r.candidates.empty());
  EXPECT_EQ(r.abstain_reason,
            AbstentionReason(r.candidates[0].probability, Model::Default().abstain_below));
  EXPECT_NE(r.abstain_reason.find("61.1 % threshold"), std::string::npos) << r.abstain_reason;
}

TEST(Model, CampaignStageAnswersWhereTheReportsStageDid) {
  // Model::Campaigns() re-states a campaign's probability (its own isotonic steps) but must
  // answer exactly where Default() does: its threshold is Default()'s decision boundary carried
  // through its steps. Refitting one without the other breaks this.
  const Model reports = Model::Default(), campaigns = Model::Campaigns();
  EXPECT_EQ(campaigns.weights, reports.weights);
  size_t answered = 0;
  for (int i = 0; i <= 10000; ++i) {
    const double p = i / 10000.0;
    const bool by_reports = reports.second_stage.Apply(p) >= reports.abstain_below;
    const bool by_campaigns = campaigns.second_stage.Apply(p) >= campaigns.abstain_below;
    answered += by_campaigns;
    // Rounding the threshold to three digits may move the boundary by a hair.
    if (std::abs(reports.second_stage.Apply(p) - reports.abstain_below) < 0.002) continue;
    EXPECT_EQ(by_campaigns, by_reports) << "first-stage probability " << p;
  }
  EXPECT_GT(answered, 1000u);
  EXPECT_LT(answered, 9000u);
}

TEST(Attributor, CampaignModelStatesMoreForTheSameEvidence) {
  // Strong evidence for one actor: the campaign model names the same actor, states more (on
  // campaigns the reports' stage under-stated how often the top actor was right) and answers.
  const std::vector<Neighbour> n = {N("n1", "G1", 0.95, Family::kInfrastructure),
                                    N("n2", "G1", 0.9, Family::kIndicator),
                                    N("n3", "G2", 0.2, Family::kNaming)};
  const Result by_reports = Attributor(nullptr, {}, Model::Default()).Attribute(Inc("q", {}), n);
  const Result by_campaigns =
      Attributor(nullptr, {}, Model::Campaigns()).Attribute(Inc("q", {}), n);
  ASSERT_FALSE(by_reports.candidates.empty());
  ASSERT_FALSE(by_campaigns.candidates.empty());
  EXPECT_EQ(by_campaigns.candidates[0].actor_id, "G1");
  EXPECT_EQ(by_reports.candidates[0].actor_id, "G1");
  EXPECT_GT(by_campaigns.candidates[0].probability, by_reports.candidates[0].probability);
  EXPECT_EQ(by_campaigns.abstained, by_reports.abstained);
}

TEST(Attributor, LoneWeakNeighbourIsNotAUnanimousVote) {
  // In a small store a single naming-only neighbour is every neighbour there is: the relative
  // features (vote share, nearest neighbour) must not turn it into a confident answer.
  Attributor a(nullptr, {}, Model::Default());
  Result r = a.Attribute(Inc("q", {}), {N("n1", "G1", 0.02, Family::kNaming)});
  ASSERT_EQ(r.candidates.size(), 1u);
  EXPECT_TRUE(r.abstained);
  EXPECT_LT(r.candidates[0].probability, 0.45);
  EXPECT_NEAR(r.candidates[0].features.vote, 0.02, 1e-12);
  EXPECT_NEAR(r.candidates[0].features.first, 0.02, 1e-12);
}

TEST(Attributor, StatedAttributionOfTheQueryIsNeverEvidence) {
  Attributor a(nullptr, {}, Model::Default());
  Incident q = Inc("q", {});
  q.attributions.push_back({"Two", "G2", 100, "source"});
  // A neighbour carrying the query's own id (the query indexed on the known side) is dropped.
  Result r = a.Attribute(q, {N("q", "G2", 0.99, Family::kInfrastructure),
                             N("n1", "G1", 0.95, Family::kInfrastructure)});
  ASSERT_FALSE(r.candidates.empty());
  EXPECT_EQ(r.candidates[0].actor_id, "G1");
  for (const Candidate& c : r.candidates) EXPECT_NE(c.actor_id, "G2");
}

TEST(Attributor, ProfileMatchesBelowThePriorAreNoCandidates) {
  // Twenty groups each use a few of the query's many common techniques; one group also uses its
  // rare tool. The many weak matches must not become candidates and take the probability that
  // the tool's one user earns (ATT&CK campaigns: 0.37 stated where 0.625 right, before).
  std::vector<ActorProfile> p;
  std::vector<std::string> techniques;
  for (int i = 0; i < 20; ++i) {
    const std::string t = "T" + std::to_string(1100 + i);
    techniques.push_back(t);
    p.push_back({"X" + std::to_string(i), "", {t, "T1059"}, {"S01" + std::to_string(i)}});
  }
  p.push_back({"G1", "One", {"T1100", "T1101", "T1102", "T1059"}, {"S0001"}});
  ProfileMatcher profiles(p);
  Attributor a(&profiles, {}, Model::Default());
  Incident q = Inc("q", {});
  q.software.push_back({"", "S0001", "malware"});
  for (const std::string& t : techniques) q.techniques.push_back({t, ""});
  q.techniques.push_back({"T1059", ""});
  Result r = a.Attribute(q, {});
  ASSERT_FALSE(r.candidates.empty());
  EXPECT_EQ(r.candidates[0].actor_id, "G1");
  EXPECT_GE(r.candidates[0].probability, 0.55) << "a tool one group uses is likely its";
  for (const Candidate& c : r.candidates) {
    EXPECT_GT(c.features.profile_posterior, 1.0 / p.size()) << c.actor_id;
  }
  EXPECT_LT(r.candidates.size(), 21u);
  // The same matches through ProfileMatcher: every one of the 21 groups matches something.
  EXPECT_EQ(profiles.Match(techniques, {"S0001"}, 50).size(), 21u);
}

TEST(Attributor, TechniquesAloneStateLessThanTheReportsModelWould) {
  // A query known only by techniques (a STIX report's attack-patterns, say): ATT&CK's campaigns
  // showed the reports' model stating 0.47 on average where 0.22 were right, so its top
  // probability goes through the techniques-only map. With software, or with a neighbour, the
  // map does not apply.
  ProfileMatcher profiles(Profiles());
  Model unmapped = Model::Default();
  unmapped.techniques_only_slope = 1.0;
  unmapped.techniques_only_intercept = 0.0;
  const Model shipped = Model::Default();
  ASSERT_LT(shipped.techniques_only_intercept, 0.0);
  Incident q = Inc("q", {});
  q.techniques.push_back({"T1566.001", ""});
  q.techniques.push_back({"T1566", ""});
  const Result raw = Attributor(&profiles, {}, unmapped).Attribute(q, {});
  const Result mapped = Attributor(&profiles, {}, shipped).Attribute(q, {});
  ASSERT_FALSE(raw.candidates.empty());
  ASSERT_FALSE(mapped.candidates.empty());
  EXPECT_TRUE(raw.techniques_only);
  EXPECT_TRUE(mapped.techniques_only);
  EXPECT_EQ(mapped.candidates[0].actor_id, raw.candidates[0].actor_id) << "the ranking stays";
  EXPECT_DOUBLE_EQ(mapped.candidates[0].probability,
                   ApplyPlatt(raw.candidates[0].probability, shipped.techniques_only_slope,
                              shipped.techniques_only_intercept));
  EXPECT_LT(mapped.candidates[0].probability, raw.candidates[0].probability);
  EXPECT_EQ(mapped.candidates[0].likelihood, LikelihoodTerm(mapped.candidates[0].probability));
  double sum = 0;
  for (const Candidate& c : mapped.candidates) sum += c.probability;
  EXPECT_LE(sum, 1.0 + 1e-12);

  Incident with_tool = q;
  with_tool.software.push_back({"", "S0001", "malware"});
  const Result tool_raw = Attributor(&profiles, {}, unmapped).Attribute(with_tool, {});
  const Result tool_mapped = Attributor(&profiles, {}, shipped).Attribute(with_tool, {});
  EXPECT_FALSE(tool_mapped.techniques_only);
  ASSERT_FALSE(tool_mapped.candidates.empty());
  EXPECT_DOUBLE_EQ(tool_mapped.candidates[0].probability, tool_raw.candidates[0].probability);

  const std::vector<Neighbour> n = {N("n1", "G1", 0.6, Family::kInfrastructure)};
  const Result near_raw = Attributor(&profiles, {}, unmapped).Attribute(q, n);
  const Result near_mapped = Attributor(&profiles, {}, shipped).Attribute(q, n);
  EXPECT_FALSE(near_mapped.techniques_only);
  ASSERT_FALSE(near_mapped.candidates.empty());
  EXPECT_DOUBLE_EQ(near_mapped.candidates[0].probability, near_raw.candidates[0].probability);
}

TEST(FitPlatt, RecoversTheMapThatGeneratedTheOutcomes) {
  // Outcomes drawn (deterministically, by a fixed LCG) with P(correct) = sigmoid(0.5 logit p - 1).
  std::vector<double> p;
  std::vector<int> y;
  uint64_t state = 42;
  for (int i = 0; i < 20000; ++i) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    const double u = static_cast<double>(state >> 11) / 9007199254740992.0;
    const double x = 0.02 + 0.96 * ((i % 97) / 96.0);
    p.push_back(x);
    y.push_back(u < ApplyPlatt(x, 0.5, -1.0) ? 1 : 0);
  }
  const auto [slope, intercept] = FitPlatt(p, y);
  EXPECT_NEAR(slope, 0.5, 0.05);
  EXPECT_NEAR(intercept, -1.0, 0.05);
  EXPECT_EQ(FitPlatt({0.2, 0.8}, {1, 1}), (std::pair<double, double>{1.0, 0.0}))
      << "one class: the identity";
  EXPECT_DOUBLE_EQ(ApplyPlatt(0.3, 1.0, 0.0), 0.3);
}

TEST(Attributor, StrongMultiFamilyEvidenceGivesHighConfidence) {
  ProfileMatcher profiles(Profiles());
  Attributor a(&profiles, {}, Model::Default());
  Incident q = Inc("q", {});
  q.software.push_back({"", "S0001", "malware"});
  q.techniques.push_back({"T1566.001", ""});
  Result r = a.Attribute(
      q, {N("n1", "G1", 0.97, Family::kInfrastructure), N("n2", "G1", 0.9, Family::kBehaviour),
          N("n3", "G2", 0.3, Family::kInfrastructure)});
  ASSERT_FALSE(r.candidates.empty());
  EXPECT_FALSE(r.abstained);
  EXPECT_EQ(r.candidates[0].actor_id, "G1");
  EXPECT_EQ(r.candidates[0].likelihood, LikelihoodTerm(r.candidates[0].probability));
  // As strong as evidence gets here, yet never certain: ICD 203's scale ends at 99 %.
  EXPECT_GT(r.candidates[0].probability, 0.95);
  EXPECT_LE(r.candidates[0].probability, 0.99);
  EXPECT_EQ(r.candidates[0].likelihood, "almost certain");
  EXPECT_TRUE(r.survives_strongest_removed);
  EXPECT_EQ(r.confidence, Confidence::kHigh);
  EXPECT_GE(r.supporting_families.size(), 3u);
  EXPECT_EQ(r.supporting_lines,
            (std::vector<std::string>{"infrastructure", "techniques", "tools"}));
}

TEST(Attributor, FamiliesFromOneObservationAreOneLine) {
  // A shared value and its registered domain or network are one observation of the query's
  // indicators: two families, one line of evidence, so never more than low confidence.
  Attributor a(nullptr, {}, Model::Default());
  Result r = a.Attribute(Inc("q", {}), {N("n1", "G1", 0.97, Family::kIndicator),
                                        N("n2", "G1", 0.95, Family::kInfrastructure),
                                        N("n3", "G2", 0.3, Family::kInfrastructure)});
  ASSERT_FALSE(r.candidates.empty());
  EXPECT_EQ(r.candidates[0].actor_id, "G1");
  EXPECT_THAT(r.supporting_families, ::testing::IsSupersetOf({"indicator", "infrastructure"}));
  EXPECT_EQ(r.supporting_lines, std::vector<std::string>{"infrastructure"});
  // Without the whole line (both families) nothing is left for G1.
  EXPECT_FALSE(r.survives_strongest_removed);
  EXPECT_EQ(r.confidence, Confidence::kLow);
  // Behaviour is another observation (the query's techniques): a second line.
  Result two = a.Attribute(
      Inc("q", {}),
      {N("n1", "G1", 0.97, Family::kIndicator), N("n2", "G1", 0.95, Family::kBehaviour),
       N("n4", "G1", 0.9, Family::kInfrastructure), N("n3", "G2", 0.3, Family::kInfrastructure)});
  EXPECT_EQ(two.supporting_lines, (std::vector<std::string>{"infrastructure", "techniques"}));
  EXPECT_TRUE(two.survives_strongest_removed);
  EXPECT_EQ(two.confidence, Confidence::kModerate);
}

TEST(Attributor, SingleFamilyEvidenceGivesLowConfidence) {
  Attributor a(nullptr, {}, Model::Default());
  Result r = a.Attribute(Inc("q", {}), {N("n1", "G1", 0.99, Family::kInfrastructure),
                                        N("n2", "G2", 0.5, Family::kBehaviour)});
  ASSERT_FALSE(r.candidates.empty());
  EXPECT_EQ(r.candidates[0].actor_id, "G1");
  EXPECT_FALSE(r.survives_strongest_removed);
  EXPECT_EQ(r.confidence, Confidence::kLow);
}

TEST(Attributor, ProbabilitiesOfCandidatesSumToAtMostOne) {
  Attributor a(nullptr, {}, Model::Default());
  Result r = a.Attribute(Inc("q", {}), {N("n1", "G1", 0.99, Family::kInfrastructure),
                                        N("n2", "G2", 0.99, Family::kInfrastructure),
                                        N("n3", "G3", 0.99, Family::kInfrastructure)});
  double sum = 0;
  for (const Candidate& c : r.candidates) sum += c.probability;
  EXPECT_LE(sum, 1.0 + 1e-9);
}

TEST(FitModel, LearnsThatNeighbourSupportPredictsCorrectness) {
  const unsigned seed = 42;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<ActorFeatures> x;
  std::vector<int> y;
  for (int i = 0; i < 2000; ++i) {
    ActorFeatures f;
    f.neighbour = u(rng);
    f.share = u(rng);
    x.push_back(f);
    y.push_back(u(rng) < f.neighbour ? 1 : 0);
  }
  Model m = FitModel(x, y, Model::Default());
  EXPECT_GT(m.weights[1], 1.0) << "seed " << seed;
  ActorFeatures lo, hi;
  lo.neighbour = 0.1;
  hi.neighbour = 0.9;
  EXPECT_LT(m.Probability(lo), 0.3) << "seed " << seed;
  EXPECT_GT(m.Probability(hi), 0.7) << "seed " << seed;
}

TEST(FitModel, OneClassLeavesTheStartingModel) {
  std::vector<ActorFeatures> x(5);
  Model start = Model::Default();
  Model m = FitModel(x, {1, 1, 1, 1, 1}, start);
  EXPECT_EQ(m.weights, start.weights);
}

TEST(FitRankingModel, RanksTheBestSupportedCandidateFirstAndLearnsWhenNoneFits) {
  const unsigned seed = 11;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<RankingExample> ex;
  for (int i = 0; i < 1500; ++i) {
    RankingExample e;
    double best = -1;
    for (int c = 0; c < 3; ++c) {
      ActorFeatures f;
      f.neighbour = u(rng);
      f.share = u(rng);  // noise
      if (f.neighbour > best) {
        best = f.neighbour;
        e.truth = c;
      }
      e.candidates.push_back(f);
    }
    if (best < 0.6) e.truth = -1;  // weak support: the actor is none of them
    ex.push_back(std::move(e));
  }
  Model start;
  Model m = FitRankingModel(ex, start);
  EXPECT_TRUE(m.exclusive);
  EXPECT_GT(m.weights[1], 1.0) << "seed " << seed;
  ActorFeatures strong, weak;
  strong.neighbour = 0.95;
  weak.neighbour = 0.2;
  std::vector<double> p = m.Probabilities({weak, strong});
  ASSERT_EQ(p.size(), 2u);
  EXPECT_GT(p[1], p[0]);
  EXPECT_GT(p[1], 0.5) << "seed " << seed;
  EXPECT_LE(p[0] + p[1], 1.0);
  // Only weak candidates: most of the mass stays on "none of them".
  std::vector<double> q = m.Probabilities({weak, weak});
  EXPECT_LT(q[0] + q[1], 0.5) << "seed " << seed;
}

TEST(FitRankingModel, NeedsQueriesWithAndWithoutTheTruthAmongCandidates) {
  std::vector<RankingExample> ex(3);
  for (RankingExample& e : ex) {
    e.candidates.resize(2);
    e.truth = 0;
  }
  Model start = Model::Default();
  start.exclusive = false;
  Model m = FitRankingModel(ex, start);
  EXPECT_EQ(m.weights, start.weights);
  EXPECT_FALSE(m.exclusive);
}

TEST(Model, IndependentProbabilitiesAreScaledToSumAtMostOne) {
  Model m;
  m.weights.fill(0);
  m.weights[0] = 3;  // every candidate alone: 0.95
  std::vector<double> p = m.Probabilities(std::vector<ActorFeatures>(4));
  double sum = 0;
  for (double v : p) sum += v;
  EXPECT_NEAR(sum, 1.0, 1e-12);
  EXPECT_NEAR(p[0], 0.25, 1e-12);
}

TEST(AbstentionThreshold, MakesTheTargetShareOfUnknownQueriesAbstain) {
  std::vector<double> unknown = {0.9, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.05};
  const double t = AbstentionThreshold(unknown, 0.9);
  size_t below = 0;
  for (double p : unknown) below += p < t;
  EXPECT_EQ(below, 9u);
  EXPECT_GT(t, 0.8);
  EXPECT_LE(t, 0.9);
  // Ties abstain together: never fewer than the target.
  const double tied = AbstentionThreshold({0.4, 0.4, 0.4, 0.1}, 0.5);
  EXPECT_GT(tied, 0.4);
  EXPECT_EQ(AbstentionThreshold({}, 0.9), 0.0);
  EXPECT_EQ(AbstentionThreshold({0.3}, 0.0), 0.0);
}

TEST(ActorIndex, MergesIncidentsPerActorAndLeavesOutThoseBeingAttributed) {
  auto attributed = [](std::string id, std::string actor, std::vector<Indicator> ind) {
    Incident inc = Inc(std::move(id), std::move(ind));
    inc.attributions.push_back({actor, actor, -1, "test"});
    return inc;
  };
  std::vector<Incident> known = {
      attributed("a1", "G1", {Ind(IndicatorType::kIpv4, "198.51.100.7")}),
      attributed("a2", "G1", {Ind(IndicatorType::kDomain, "update-check.example")}),
      attributed("b1", "G2", {Ind(IndicatorType::kIpv4, "203.0.113.9")}),
      Inc("u1", {Ind(IndicatorType::kIpv4, "198.51.100.7")}),  // no stated actor: left out
  };
  auto index = BuildActorIndex(known, nullptr, {});
  ASSERT_TRUE(index.ok()) << index.status();
  EXPECT_EQ(index->size(), 2u);
  // The query shares one value with each of G1's two incidents: one document holds both.
  Incident q = Inc("q", {Ind(IndicatorType::kIpv4, "198.51.100.7"),
                         Ind(IndicatorType::kDomain, "update-check.example")});
  std::vector<Neighbour> m = SimilarNeighbours(*index, q, 5);
  ASSERT_FALSE(m.empty());
  EXPECT_EQ(m[0].incident_id, "actor:G1");
  EXPECT_EQ(m[0].actor_id, "G1");
  EXPECT_GE(m[0].shared.size(), 2u);
  // Its per-family evidence is what the raw score weighs (kinship eval --family-weights fits
  // the weights on it): an indicator and an infrastructure share, nothing of the other families.
  const score::FamilyVector& e = m[0].pair_evidence;
  EXPECT_NEAR(index->calibration().Raw(e), m[0].raw, 1e-9);
  EXPECT_GT(e[static_cast<int>(score::Family::kIndicator)], 0);
  EXPECT_GT(e[static_cast<int>(score::Family::kInfrastructure)], 0);
  EXPECT_EQ(e[static_cast<int>(score::Family::kTechnique)], 0);
  // Leaving out both G1 incidents (being attributed) leaves no G1 document.
  auto without = BuildActorIndex(known, nullptr, {"a1", "a2"});
  ASSERT_TRUE(without.ok());
  EXPECT_EQ(without->size(), 1u);
  for (const Neighbour& n : SimilarNeighbours(*without, q, 5)) EXPECT_NE(n.actor_id, "G1");
}

// Attribution's neighbours are the best attributed incidents however many unattributed ones
// match the query better: 200 unattributed incidents share the C2, a domain and a hash with the
// query, three attributed ones only the C2 (800 others share nothing). The query itself,
// indexed and attributed, is not one of them.
TEST(SimilarNeighbours, TheBestAttributedHoweverManyUnattributedRankAbove) {
  std::vector<Incident> store;
  for (int i = 0; i < 800; ++i) {
    store.push_back(Inc(absl::StrCat("other", i),
                        {Ind(IndicatorType::kIpv4, absl::StrCat("10.9.", i / 200, ".", i % 200))}));
  }
  const std::string hash(64, 'e');
  for (int i = 0; i < 200; ++i) {
    store.push_back(Inc(absl::StrCat("u", i), {Ind(IndicatorType::kIpv4, "198.51.100.7"),
                                               Ind(IndicatorType::kDomain, "relay.example"),
                                               Ind(IndicatorType::kSha256, hash)}));
  }
  for (int i = 0; i < 3; ++i) {
    Incident a = Inc(absl::StrCat("a", i), {Ind(IndicatorType::kIpv4, "198.51.100.7")});
    a.attributions.push_back({"G1", "G1", -1, "test"});
    store.push_back(std::move(a));
  }
  Incident q =
      Inc("q", {Ind(IndicatorType::kIpv4, "198.51.100.7"),
                Ind(IndicatorType::kDomain, "relay.example"), Ind(IndicatorType::kSha256, hash)});
  q.attributions.push_back({"G2", "G2", -1, "test"});
  store.push_back(q);
  score::ScoringOptions options;
  options.over_correlation_min = 0;  // 200 holders: still evidence here
  options.over_correlation_share = 0;
  auto index = score::SimilarityIndex::Build(store, nullptr, options);
  ASSERT_TRUE(index.ok());
  const std::vector<score::Match> best = index->Similar(q, 200);
  ASSERT_EQ(best.size(), 200u);
  for (const score::Match& m : best) ASSERT_TRUE(index->StatedActors(m.id).empty()) << m.id;
  std::vector<Neighbour> n = SimilarNeighbours(*index, q, 2);
  ASSERT_EQ(n.size(), 2u);
  for (const Neighbour& x : n) {
    EXPECT_EQ(x.actor_id, "G1");
    EXPECT_FALSE(x.shared.empty());
  }
  EXPECT_EQ(SimilarNeighbours(*index, q, 10).size(), 3u);
}

// The model input (ModelInputs order) that carries `field`.
int InputOf(double ActorFeatures::*field) {
  ActorFeatures f;
  f.*field = 0.5;
  const auto x = ModelInputs(f);
  for (int i = 1; i < kModelInputs; ++i) {
    if (x[i] == 0.5) return i;
  }
  ADD_FAILURE() << "feature is not a model input";
  return 0;
}

TEST(Attributor, ActorDocumentMatchIsEvidenceOfItsOwn) {
  // The shipped model does not use actor documents (weight 0, evaluation.md); a model fitted
  // with them (`kinship eval --actor-documents`) gives the feature a positive weight.
  Model model = Model::Default();
  EXPECT_EQ(model.weights[InputOf(&ActorFeatures::actor)], 0.0);
  model.weights[InputOf(&ActorFeatures::actor)] = 3.0;
  Attributor a(nullptr, {}, model);
  Neighbour doc = {"actor:G1", "G1", 0.9, {{Family::kNaming, "ng:upda", "actor:G1", 2.0}}};
  // No similar incident at all: the actor document alone still names a candidate.
  Result r = a.Attribute(Inc("q", {}), {}, {doc});
  ASSERT_EQ(r.candidates.size(), 1u);
  EXPECT_EQ(r.candidates[0].actor_id, "G1");
  EXPECT_DOUBLE_EQ(r.candidates[0].features.actor, 0.9);
  bool listed = false;
  for (const EvidenceItem& e : r.candidates[0].evidence) {
    listed = listed || (e.feature == "ng:upda" && e.via == "known incidents of G1");
  }
  EXPECT_TRUE(listed);
  // It raises its actor's probability over the same neighbours without it.
  const std::vector<Neighbour> n = {N("n1", "G1", 0.3, Family::kNaming),
                                    N("n2", "G2", 0.3, Family::kNaming)};
  auto p_of = [](const Result& res, const std::string& actor) {
    for (const Candidate& c : res.candidates) {
      if (c.actor_id == actor) return c.probability;
    }
    return 0.0;
  };
  const Result with = a.Attribute(Inc("q", {}), n, {doc});
  const Result without = a.Attribute(Inc("q", {}), n);
  EXPECT_GT(p_of(with, "G1"), p_of(without, "G1"));
  EXPECT_EQ(with.candidates[0].actor_id, "G1");
}

Incident Hosts(const std::string& id, const std::vector<std::string>& hosts) {
  std::vector<Indicator> v;
  for (const std::string& h : hosts) v.push_back(Ind(IndicatorType::kDomain, h));
  return Inc(id, std::move(v));
}

TEST(StyleTerms, NGramsOfTheNameWithoutItsTldAndTheTld) {
  Incident inc = Hosts("a", {"upd.ru", "upd.ru"});  // the same host twice counts once
  inc.indicators.push_back(Ind(IndicatorType::kIpv4, "10.1.2.3"));
  inc.indicators.push_back(Ind(IndicatorType::kDomain, "mail.net", Derivation::kRegisteredDomain));
  Indicator benign = Ind(IndicatorType::kDomain, "google.com");
  benign.warninglists = {"google"};
  inc.indicators.push_back(benign);
  const auto sorted = StyleTerms(inc);
  EXPECT_TRUE(std::is_sorted(sorted.begin(), sorted.end()));
  const std::map<std::string, int> terms(sorted.begin(), sorted.end());
  // "^upd$": 3-grams ^up upd pd$, 4-grams ^upd upd$, 5-gram ^upd$; and the TLD.
  EXPECT_EQ(terms.size(), 7u);
  EXPECT_EQ(terms.at("tld:ru"), 1);
  EXPECT_EQ(terms.at("^upd$"), 1);
  EXPECT_EQ(terms.count("tld:net"), 0u);  // derived registered domains are not stated names
  EXPECT_EQ(terms.count("tld:com"), 0u);  // known-benign values say nothing of style
}

TEST(StyleIndex, FindsIncidentsNamedAlikeWithoutASharedValue) {
  StyleIndex idx;
  idx.Add(Hosts("k1", {"update-microsoft-cdn.com", "microsoft-update-srv.com"}), "G1");
  idx.Add(Hosts("k2", {"news-portal-today.info", "daily-news-portal.info"}), "G2");
  idx.Add(Hosts("k3", {"wertyuzx.ru"}), "G3");
  idx.Add(Hosts("k4", {"unrelated.org"}), "");  // no actor: not indexed
  Incident self = Hosts("q", {"update-microsoft-cdn.com"});
  idx.Add(self, "G9");
  idx.Finalize();
  EXPECT_EQ(idx.size(), 4u);
  const std::vector<StyleMatch> m = idx.Nearest(Hosts("q", {"microsoft-cdn-update.com"}), 5);
  ASSERT_FALSE(m.empty());
  EXPECT_EQ(m[0].incident_id, "k1");  // no value shared, the same words and TLD
  EXPECT_EQ(m[0].actor_id, "G1");
  for (const StyleMatch& x : m) {
    EXPECT_NE(x.incident_id, "q");  // never the query itself
    EXPECT_GT(x.cosine, 0.0);
    EXPECT_LE(x.cosine, 1.0);
  }
  for (size_t i = 1; i < m.size(); ++i) EXPECT_GE(m[i - 1].cosine, m[i].cosine);
  // Nothing named alike, or nothing named at all: no match.
  EXPECT_TRUE(idx.Nearest(Hosts("z", {"qqqq.zz"}), 5).empty());
  EXPECT_TRUE(idx.Nearest(Inc("z", {Ind(IndicatorType::kIpv4, "10.1.2.3")}), 5).empty());
}

TEST(StyleIndex, AddUsesTheFirstStatedActor) {
  StyleIndex idx;
  Incident a = Hosts("a", {"update-microsoft.com"});
  a.attributions.push_back({"Sofacy", "", -1, "misp"});  // not resolved: its name
  a.attributions.push_back({"APT29", "G0016", -1, "misp"});
  Incident b = Hosts("b", {"update-microsoft.net"});  // no stated actor
  idx.Add(a);
  idx.Add(b);
  idx.Finalize();
  ASSERT_EQ(idx.size(), 1u);
  const auto m = idx.Nearest(Hosts("q", {"microsoft-update.com"}), 3);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].actor_id, "Sofacy");
}

TEST(StyleIndex, IndexesSaysWhatAddIndexes) {
  // An ingest keeps a naming-style snapshot when it adds no incident Indexes() accepts, so the
  // two must agree: a stated actor (id or name) and a hostname (a domain or a URL's host; not an
  // IP address, a warninglisted name or a bare TLD).
  auto with_actor = [](Incident inc, std::string id, std::string name) {
    inc.attributions.push_back({std::move(name), std::move(id), -1, "misp"});
    return inc;
  };
  Indicator benign = Ind(IndicatorType::kDomain, "www.google.com");
  benign.warninglists.push_back("tranco");
  Indicator url_host = Ind(IndicatorType::kDomain, "login-portal.example.org");
  url_host.derivation = Derivation::kUrlHost;
  const std::vector<std::pair<Incident, bool>> cases = {
      {Hosts("hosts, no actor", {"update-microsoft.com"}), false},
      {with_actor(Hosts("hosts, actor id", {"update-microsoft.com"}), "G0007", ""), true},
      {with_actor(Hosts("hosts, actor name", {"update-microsoft.com"}), "", "Sofacy"), true},
      {with_actor(Hosts("empty actor", {"update-microsoft.com"}), "", ""), false},
      {with_actor(Inc("ip only", {Ind(IndicatorType::kIpv4, "203.0.113.9")}), "G0007", ""), false},
      {with_actor(Inc("benign only", {benign}), "G0007", ""), false},
      {with_actor(Inc("url host", {url_host}), "G0007", ""), true},
      {with_actor(Hosts("no dot", {"localhost"}), "G0007", ""), false},
  };
  for (const auto& [inc, indexed] : cases) {
    EXPECT_EQ(StyleIndex::Indexes(inc), indexed) << inc.id;
    StyleIndex idx;
    idx.Add(inc);
    EXPECT_EQ(idx.size(), indexed ? 1u : 0u) << inc.id;
  }
}

TEST(Attributor, NamingStyleIsEvidenceOfItsOwn) {
  Attributor a(nullptr, {}, Model::Default());
  // Naming style alone names a candidate, lists the incidents named alike, and is naming support.
  const std::vector<StyleMatch> style = {{"k1", "G1", 0.8}, {"k2", "G1", 0.6}, {"k3", "G2", 0.2}};
  Result r = a.Attribute(Inc("q", {}), {}, {}, style);
  ASSERT_EQ(r.candidates.size(), 2u);
  EXPECT_EQ(r.candidates[0].actor_id, "G1");
  EXPECT_DOUBLE_EQ(r.candidates[0].features.style_best, 0.8);
  EXPECT_NEAR(r.candidates[0].features.style, 1.4 / 1.6, 1e-9);  // its share of the style mass
  EXPECT_GT(r.candidates[0].probability, r.candidates[1].probability);
  bool listed = false;
  for (const EvidenceItem& e : r.candidates[0].evidence) {
    listed = listed || (e.feature == "style:k1" && e.via == "k1" && e.family == Family::kNaming);
  }
  EXPECT_TRUE(listed);
  EXPECT_THAT(r.supporting_families, ::testing::Contains("naming"));
  // A match with the query's own id is dropped.
  Result self = a.Attribute(Inc("k1", {}), {}, {}, {{"k1", "G1", 1.0}});
  EXPECT_TRUE(self.candidates.empty());
  // With the same neighbours, style evidence for an actor raises its probability.
  const std::vector<Neighbour> n = {N("n1", "G1", 0.3, Family::kInfrastructure),
                                    N("n2", "G2", 0.3, Family::kInfrastructure)};
  Result plain = a.Attribute(Inc("q", {}), n);
  Result styled = a.Attribute(Inc("q", {}), n, {}, {{"k1", "G2", 0.7}});
  auto prob = [](const Result& res, const std::string& actor) {
    for (const Candidate& c : res.candidates) {
      if (c.actor_id == actor) return c.probability;
    }
    return 0.0;
  };
  EXPECT_GT(prob(styled, "G2"), prob(plain, "G2"));
  EXPECT_EQ(styled.candidates[0].actor_id, "G2");
}

TEST(StyleIndex, ClassifierLearnsEachActorsNamingHabits) {
  StyleIndex idx;
  // G1 names its hosts after software updates, G2 after news sites; G3 has one incident (no
  // class of its own: too few to learn from).
  idx.Add(Hosts("a1", {"update-office-cdn.com", "office-update-srv.com"}), "G1");
  idx.Add(Hosts("a2", {"win-update-cdn.com", "update-check-srv.com"}), "G1");
  idx.Add(Hosts("a3", {"cdn-update-win.com"}), "G1");
  idx.Add(Hosts("b1", {"daily-news-portal.info", "news-today-portal.info"}), "G2");
  idx.Add(Hosts("b2", {"world-news-daily.info", "portal-news-world.info"}), "G2");
  idx.Add(Hosts("c1", {"qwxzvb.ru"}), "G3");
  idx.Finalize();
  const std::vector<StyleVote> v = idx.Classify(Hosts("q", {"update-srv-office.com"}), 5);
  ASSERT_EQ(v.size(), 2u);  // two classes: G1 and G2
  EXPECT_EQ(v[0].actor_id, "G1");
  EXPECT_GT(v[0].score, 0.5);  // on G1's side of its boundary
  EXPECT_LT(v[1].score, 0.5);
  EXPECT_GE(v[1].score, 0.0);
  EXPECT_EQ(idx.Classify(Hosts("q2", {"news-world-portal.info"}), 1)[0].actor_id, "G2");
  // A query the classifier was trained on, or one whose excluded incidents it was trained on,
  // gets no vote: it has seen their labels. Nor does a query without hostnames.
  EXPECT_TRUE(idx.Classify(Hosts("a1", {"update-office-cdn.com"}), 5).empty());
  EXPECT_TRUE(idx.Classify(Hosts("q", {"update-srv-office.com"}), 5, {"b2"}).empty());
  EXPECT_FALSE(idx.Classify(Hosts("q", {"update-srv-office.com"}), 5, {"c1"}).empty());
  EXPECT_TRUE(idx.Classify(Inc("z", {Ind(IndicatorType::kIpv4, "10.1.2.3")}), 5).empty());
  // Without the classifier, or with fewer than two actors to tell apart: no votes.
  StyleIndex off;
  off.Add(Hosts("a1", {"update-office-cdn.com"}), "G1");
  off.Add(Hosts("a2", {"win-update-cdn.com"}), "G1");
  off.Add(Hosts("b1", {"daily-news-portal.info"}), "G2");
  off.Add(Hosts("b2", {"world-news-daily.info"}), "G2");
  off.Finalize(/*classifier=*/false);
  EXPECT_TRUE(off.Classify(Hosts("q", {"update-srv-office.com"}), 5).empty());
  StyleIndex one;
  one.Add(Hosts("a1", {"update-office-cdn.com"}), "G1");
  one.Add(Hosts("a2", {"win-update-cdn.com"}), "G1");
  one.Finalize();
  EXPECT_TRUE(one.Classify(Hosts("q", {"update-srv-office.com"}), 5).empty());
  // A cap on classes keeps the actors with the most incidents.
  StyleIndex capped;
  capped.Add(Hosts("a1", {"update-office-cdn.com"}), "G1");
  capped.Add(Hosts("a2", {"win-update-cdn.com"}), "G1");
  capped.Add(Hosts("a3", {"cdn-update-win.com"}), "G1");
  capped.Add(Hosts("b1", {"daily-news-portal.info"}), "G2");
  capped.Add(Hosts("b2", {"world-news-daily.info"}), "G2");
  capped.Add(Hosts("b3", {"news-today-portal.info"}), "G2");
  capped.Add(Hosts("c1", {"mail-secure-box.net"}), "G3");
  capped.Add(Hosts("c2", {"secure-mail-login.net"}), "G3");
  capped.Finalize(/*classifier=*/true, /*max_classes=*/2);
  std::vector<std::string> actors;
  for (const StyleVote& vote : capped.Classify(Hosts("q", {"secure-mail-box.net"}), 5)) {
    actors.push_back(vote.actor_id);
  }
  EXPECT_THAT(actors, ::testing::UnorderedElementsAre("G1", "G2"));
  // G3's incidents were not trained on, so leaving one of them out costs no vote.
  EXPECT_FALSE(capped.Classify(Hosts("q", {"secure-mail-box.net"}), 5, {"c1"}).empty());
}

TEST(Attributor, ClassifierVotesNameCandidatesAndScoreOthers) {
  Attributor a(nullptr, {}, Model::Default());
  // Votes 1-3 become candidates; the fourth only scores a candidate other evidence found.
  const std::vector<StyleVote> votes = {
      {"G1", 0.9}, {"G2", 0.4}, {"G3", 0.3}, {"G4", 0.2}, {"G5", 0.1}};
  const std::vector<Neighbour> n = {N("n1", "G4", 0.05, Family::kInfrastructure)};
  const auto f = a.Features(Inc("q", {}), n, {}, {}, votes);
  std::map<std::string, ActorFeatures> by(f.begin(), f.end());
  ASSERT_EQ(by.size(), 4u);  // G1-G3 from the votes, G4 from its neighbour; never G5
  EXPECT_DOUBLE_EQ(by["G1"].classifier, 0.9);
  EXPECT_DOUBLE_EQ(by["G1"].classifier_first, 1.0);
  EXPECT_DOUBLE_EQ(by["G2"].classifier_first, 0.0);
  EXPECT_DOUBLE_EQ(by["G4"].classifier, 0.2);
  Result r = a.Attribute(Inc("q", {}), n, {}, {}, votes);
  ASSERT_FALSE(r.candidates.empty());
  EXPECT_EQ(r.candidates[0].actor_id, "G1");
  bool listed = false;
  for (const EvidenceItem& e : r.candidates[0].evidence) {
    listed = listed || (e.feature == "style-classifier:rank 1" && e.family == Family::kNaming);
  }
  EXPECT_TRUE(listed);
  // A stronger vote for an actor raises its probability, all else equal.
  Result weak = a.Attribute(Inc("q", {}), n, {}, {}, {{"G4", 0.3}});
  Result strong = a.Attribute(Inc("q", {}), n, {}, {}, {{"G4", 0.8}});
  EXPECT_GT(strong.candidates[0].probability, weak.candidates[0].probability);
}

TEST(IsotonicCalibrator, IsMonotoneAndPoolsViolators) {
  IsotonicCalibrator c = IsotonicCalibrator::Fit({0.1, 0.2, 0.3, 0.4}, {0, 1, 0, 1});
  EXPECT_DOUBLE_EQ(c.Apply(0.0), 0.0);
  EXPECT_DOUBLE_EQ(c.Apply(0.25), 0.5);
  EXPECT_DOUBLE_EQ(c.Apply(1.0), 1.0);
  EXPECT_LE(c.Apply(0.2), c.Apply(0.35));
}

TEST(IsotonicCalibrator, PoolsEqualScoresIntoOneStep) {
  // Four pairs at one score, one of them positive: one step at 0.25, not a rising run of steps
  // at the same score (which Apply would read as 1.0).
  IsotonicCalibrator c = IsotonicCalibrator::Fit({0.5, 0.5, 0.5, 0.5, 0.9}, {1, 0, 0, 0, 1});
  ASSERT_EQ(c.xs().size(), 2u);
  EXPECT_DOUBLE_EQ(c.Apply(0.5), 0.25);
  EXPECT_DOUBLE_EQ(c.Apply(0.9), 1.0);
}

TEST(Metrics, CountsAbstentionAsWrongAndMeasuresCalibration) {
  std::vector<metrics::Answer> a(4);
  a[0] = {"G1", {{"G1", 0.9}, {"G2", 0.05}}, false, true, "g0"};
  a[1] = {"G2", {{"G1", 0.6}, {"G2", 0.3}}, false, true, "g1"};
  a[2] = {"G2", {{"G2", 0.4}}, true, true, "g2"};  // right but abstained
  a[3] = {"G9", {}, true, false, "g3"};            // unknown actor, abstained
  metrics::Summary s = metrics::Summarize(a);
  EXPECT_EQ(s.queries, 3u);
  EXPECT_EQ(s.unknown_queries, 1u);
  EXPECT_DOUBLE_EQ(s.abstain_unknown, 1.0);
  EXPECT_DOUBLE_EQ(s.top1, 1.0 / 3);
  EXPECT_DOUBLE_EQ(s.top3, 2.0 / 3);
  EXPECT_DOUBLE_EQ(s.precision_at[0], 1.0);  // the 0.9 answer
  // Brier: (0.9-1)^2 + (0.6-0)^2 + (0.4-1)^2, over 3.
  EXPECT_NEAR(s.brier, (0.01 + 0.36 + 0.36) / 3, 1e-12);
  // Macro-F1: G1 tp1 fp1 -> 2/3; G2 tp0 -> 0.
  EXPECT_NEAR(s.macro_f1, (2.0 / 3) / 2, 1e-12);
  // ECE over the known-actor queries: bins 0.9 (1 right), 0.6 (0 right), 0.4 (1 right).
  EXPECT_NEAR(s.ece, (0.1 + 0.6 + 0.6) / 3, 1e-12);
  // Over every query, the unknown actor's (no candidate: probability 0, wrong) included.
  EXPECT_EQ(s.all_queries, 4u);
  EXPECT_DOUBLE_EQ(s.top1_all, 1.0 / 4);
  EXPECT_NEAR(s.brier_all, (0.01 + 0.36 + 0.36 + 0) / 4, 1e-12);
  EXPECT_NEAR(s.ece_all, (0.1 + 0.6 + 0.6 + 0) / 4, 1e-12);
}

TEST(Metrics, UnknownActorAnswersLowerCalibrationOverAllQueriesOnly) {
  // A confident answer for an actor the store does not know is wrong over all queries, and
  // not counted at all over the known-actor ones.
  std::vector<metrics::Answer> a(2);
  a[0] = {"G1", {{"G1", 0.8}}, false, true, "g0"};
  a[1] = {"G9", {{"G1", 0.8}}, false, false, "g1"};
  metrics::Summary s = metrics::Summarize(a);
  EXPECT_NEAR(s.ece, 0.2, 1e-12);      // 0.8 stated, 1 of 1 right
  EXPECT_NEAR(s.ece_all, 0.3, 1e-12);  // 0.8 stated, 1 of 2 right
  EXPECT_DOUBLE_EQ(s.top1_all, 0.5);
  EXPECT_DOUBLE_EQ(s.abstain_unknown, 0.0);
}

}  // namespace
}  // namespace kinship::attrib
