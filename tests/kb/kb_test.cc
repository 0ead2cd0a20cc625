// Knowledge base on small in-memory ATT&CK and galaxy documents.
#include "kinship/kb.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "kb/internal.h"
#include "kinship/ingest.h"
#include "kinship/status.h"
#include "kinship/store.h"
#include "store/sqlite.h"
#include "store/store_impl.h"
#include "testing/data.h"

namespace kinship::kb {
namespace {

constexpr char kBundle[] = R"({"type":"bundle","id":"bundle--1","objects":[
{"type":"x-mitre-collection","id":"x-mitre-collection--1","name":"Enterprise ATT&CK","x_mitre_version":"9.9"},
{"type":"intrusion-set","id":"intrusion-set--aaaa","name":"APT28","aliases":["APT28","Sofacy"],
 "external_references":[{"source_name":"mitre-attack","external_id":"G0007"}]},
{"type":"malware","id":"malware--bbbb","name":"CHOPSTICK","x_mitre_aliases":["CHOPSTICK","X-Agent"],
 "external_references":[{"source_name":"mitre-attack","external_id":"S0023"}]},
{"type":"attack-pattern","id":"attack-pattern--old","name":"Old","revoked":true,
 "external_references":[{"source_name":"mitre-attack","external_id":"T1066"}]},
{"type":"attack-pattern","id":"attack-pattern--new","name":"New",
 "kill_chain_phases":[{"kill_chain_name":"mitre-attack","phase_name":"defense-evasion"}],
 "external_references":[{"source_name":"mitre-attack","external_id":"T1027"}]},
{"type":"relationship","id":"relationship--1","relationship_type":"revoked-by",
 "source_ref":"attack-pattern--old","target_ref":"attack-pattern--new"},
{"type":"relationship","id":"relationship--2","relationship_type":"uses",
 "source_ref":"intrusion-set--aaaa","target_ref":"attack-pattern--old"},
{"type":"relationship","id":"relationship--3","relationship_type":"uses",
 "source_ref":"intrusion-set--aaaa","target_ref":"malware--bbbb"}]})";

constexpr char kGalaxy[] = R"({"type":"threat-actor","uuid":"g","version":3,"values":[
{"value":"Fancy Bear","uuid":"c1","meta":{"synonyms":["STRONTIUM","G0007","Grizzly Steppe"],
 "cfr-suspected-state-sponsor":"Russian Federation"},"related":[{"dest-uuid":"aaaa","type":"similar"}]},
{"value":"Cozy Bear","uuid":"c2","meta":{"synonyms":["Grizzly Steppe"]}}]})";

KnowledgeBase Build() {
  std::vector<internal::ParsedSource> s;
  for (const char* doc : {kBundle, kGalaxy}) {
    auto p = internal::ParseKbFile(doc, "mem.json");
    EXPECT_TRUE(p.ok()) << p.status();
    if (p.ok()) s.push_back(std::move(*p));
  }
  return internal::BuildKnowledgeBase(std::move(s));
}

TEST(KbBuild, GalaxySynonymsJoinAttackGroup) {
  KnowledgeBase kb = Build();
  for (const char* q : {"APT 28", "apt-28", "Fancy-Bear", "strontium", "Sofacy"}) {
    auto m = kb.Resolve(q, EntityType::kActor);
    ASSERT_FALSE(m.empty()) << q;
    EXPECT_EQ(m.front().id, "G0007") << q;
    EXPECT_FALSE(m.front().ambiguous) << q;
  }
  EXPECT_EQ(kb.actor("G0007")->sponsor_country, "Russian Federation");
  EXPECT_EQ(kb.Resolve("Fancy Bear").front().matched, "synonym");
  EXPECT_EQ(kb.Resolve("APT 28").front().matched, "variant");
}

TEST(KbBuild, SharedSynonymIsAmbiguous) {
  auto m = Build().Resolve("Grizzly Steppe", EntityType::kActor);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_TRUE(m[0].ambiguous);
  EXPECT_TRUE(m[1].ambiguous);
}

TEST(KbBuild, RevokedIdFollowsReplacement) {
  KnowledgeBase kb = Build();
  auto m = kb.Resolve("T1066", EntityType::kTechnique);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].id, "T1027");
  EXPECT_EQ(kb.actor("G0007")->technique_ids, std::vector<std::string>{"T1027"});
  EXPECT_EQ(kb.Resolve("XAgent", EntityType::kSoftware).front().id, "S0023");
}

TEST(KbBuild, CompoundNameResolvesThroughItsParts) {
  KnowledgeBase kb = Build();
  // A STIX tool named "Long Name (SHORT)", a tag "Alias (Name)", a pair "A / B": one entity.
  for (const char* q : {"Sofacy (APT28)", "APT28 / Fancy Bear", "Fancy Bear (Russia)"}) {
    auto m = kb.Resolve(q, EntityType::kActor);
    ASSERT_EQ(m.size(), 1u) << q;
    EXPECT_EQ(m[0].id, "G0007") << q;
    EXPECT_EQ(m[0].matched, "part") << q;
    EXPECT_FALSE(m[0].ambiguous) << q;
    EXPECT_LT(m[0].score, 1.0) << q;
  }
  EXPECT_EQ(kb.Resolve("Unknown Tool (X-Agent)", EntityType::kSoftware).front().id, "S0023");
  // Parts naming different actors: ambiguous, so ingest links neither.
  auto two = kb.Resolve("APT28 / Cozy Bear", EntityType::kActor);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_TRUE(two[0].ambiguous);
  // A whole name that resolves is never split; parts that name nothing give nothing.
  EXPECT_EQ(kb.Resolve("Fancy Bear").front().matched, "synonym");
  EXPECT_TRUE(kb.Resolve("Nobody (Nowhere)").empty());
}

TEST(KbParse, RejectsTruncatedBundleWithLocation) {
  std::string doc = kBundle;
  doc.resize(doc.size() / 2);
  auto p = internal::ParseKbFile(doc, "cut.json");
  ASSERT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(p.status().message().find("cut.json:"), std::string_view::npos);
}

TEST(KbParse, RejectsObjectWithoutIdWithPath) {
  auto p = internal::ParseKbFile(R"({"type":"bundle","objects":[{"type":"malware"}]})", "x.json");
  ASSERT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(p.status().message().find("objects[0].id"), std::string_view::npos);
}

void Write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

TEST(KbImport, TruncatedFileLeavesPreviousKbIntact) {
  std::string dir = testing::TempDir();
  Write(dir + "/a.json", kBundle);
  Write(dir + "/g.json", kGalaxy);
  std::string cut = kBundle;
  cut.resize(cut.size() - 20);
  Write(dir + "/cut.json", cut);
  auto store = Store::Open(dir + "/kb.db");
  ASSERT_TRUE(store.ok()) << store.status();
  auto sum = Import(**store, {dir + "/a.json", dir + "/g.json"});
  ASSERT_TRUE(sum.ok()) << sum.status();
  EXPECT_EQ(sum->sources.size(), 2u);
  auto bad = Import(**store, {dir + "/cut.json"});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  auto kb = KnowledgeBase::Load(**store);
  ASSERT_TRUE(kb.ok()) << kb.status();
  EXPECT_EQ(kb->sources().size(), 2u);
  EXPECT_EQ(kb->Resolve("STRONTIUM").front().id, "G0007");
  EXPECT_EQ(kb->technique("T1066")->revoked_by, "T1027");
}

// A fresh folder `name` under the test's temporary one, holding the small bundle as a.json.
std::string DirWithBundle(const std::string& name) {
  const std::string dir = testing::TempDir() + "/" + name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  Write(dir + "/a.json", kBundle);
  return dir;
}

// What re-linking reads again: the links of an incident (the fields prose gives).
struct Links {
  std::vector<Attribution> attributions;
  std::vector<kinship::Software> software;
  std::vector<kinship::Technique> techniques;
  std::vector<ActorMention> mentions;
  std::vector<std::string> tags;
  bool operator==(const Links&) const = default;
};
// The reference side of a comparison: `dir`/first.db with `files` imported, the knowledge base
// it then holds, and the options an ingest with that KB reads with.
struct KbFirst {
  std::unique_ptr<Store> store;
  std::unique_ptr<KnowledgeBase> kb;
  ingest::Options with_kb;
};
absl::StatusOr<KbFirst> OpenKbFirst(const std::string& dir, const std::vector<std::string>& files) {
  KbFirst out;
  KINSHIP_ASSIGN_OR_RETURN(out.store, Store::Open(dir + "/first.db"));
  if (auto sum = Import(*out.store, files); !sum.ok()) return sum.status();
  KINSHIP_ASSIGN_OR_RETURN(KnowledgeBase kb, KnowledgeBase::Load(*out.store));
  out.kb = std::make_unique<KnowledgeBase>(std::move(kb));
  out.with_kb.kb = out.kb.get();
  return out;
}

std::string Describe(const Incident& inc) {
  std::string out;
  for (const Attribution& a : inc.attributions)
    out += "attr " + a.actor_id + "@" + a.location + " ";
  for (const kinship::Software& x : inc.software) out += "soft " + x.id + "@" + x.location + " ";
  for (const kinship::Technique& t : inc.techniques)
    out += "tech " + t.id + ":" + t.name + "@" + t.location + " ";
  for (const ActorMention& m : inc.actor_mentions)
    out += "mention " + m.id + "@" + m.location + " ";
  for (const std::string& t : inc.tags) out += "tag " + t + " ";
  return out;
}
Links LinksOf(const Incident& inc) {
  return {inc.attributions, inc.software, inc.techniques, inc.actor_mentions, inc.tags};
}

// A report file read before the KB: its kept prose is read again by the import, and the incident
// ends with the links an ingest with the KB gives it, located alike; what the shape-only reading
// gave and the KB-aware one does not is gone (a revoked T-id beside its replacement), and a
// second import rewrites nothing.
TEST(KbImport, ReadsStoredProseAgainAsAnIngestWithTheKbWould) {
  const std::string dir = DirWithBundle("prose");
  const std::string note =
      "Intrusion note\n\nThe implant was X-Agent, and the operators relied on T1066 and T1027.\n"
      "We assess that the intrusion was carried out by Sofacy.\n";
  auto late = Store::Open(dir + "/late.db");
  ASSERT_TRUE(late.ok()) << late.status();
  auto read = ingest::ParseReport(note, "note.txt", {});
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->incidents.size(), 1u);
  ASSERT_EQ(read->incidents[0].prose.size(), 1u);
  const std::string id = read->incidents[0].id;
  ASSERT_TRUE((*late)->Ingest(read->incidents).ok());
  auto before = (*late)->GetIncident(id);
  ASSERT_TRUE(before.ok());
  EXPECT_TRUE(before->software.empty());
  EXPECT_TRUE(before->attributions.empty());
  EXPECT_EQ(before->techniques.size(), 2u);  // T1066 and T1027, unresolved

  auto sum = Import(**late, {dir + "/a.json"});
  ASSERT_TRUE(sum.ok()) << sum.status();
  EXPECT_EQ(sum->incidents_relinked, 1u);
  auto after = (*late)->GetIncident(id);
  ASSERT_TRUE(after.ok());

  auto first = OpenKbFirst(dir, {dir + "/a.json"});
  ASSERT_TRUE(first.ok()) << first.status();
  auto read_with_kb = ingest::ParseReport(note, "note.txt", first->with_kb);
  ASSERT_TRUE(read_with_kb.ok()) << read_with_kb.status();
  ASSERT_TRUE(first->store->Ingest(read_with_kb->incidents).ok());
  auto reference = first->store->GetIncident(id);
  ASSERT_TRUE(reference.ok());

  EXPECT_TRUE(LinksOf(*after) == LinksOf(*reference)) << Describe(*after) << "\n"
                                                      << Describe(*reference);
  ASSERT_EQ(after->software.size(), 1u);
  EXPECT_EQ(after->software[0].id, "S0023");
  EXPECT_EQ(after->software[0].location, reference->software[0].location);
  ASSERT_EQ(after->attributions.size(), 1u);
  EXPECT_EQ(after->attributions[0].actor_id, "G0007");
  ASSERT_EQ(after->techniques.size(), 1u);  // T1066 followed its replacement, T1027
  EXPECT_EQ(after->techniques[0].id, "T1027");
  EXPECT_EQ(after->techniques[0].name, "New");
  EXPECT_EQ((*late)->Prose(id)->size(), 1u) << "the prose goes back with the incident";

  auto again = Import(**late, {dir + "/a.json"});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->incidents_relinked, 0u);
}

// A MISP event whose title names APT28 and whose report names an actor only a later source
// knows: the first import gives the title's actor (the event states none it knows), the second
// reads the report again and its actor replaces the title's, as an ingest with both gives.
TEST(KbImport, AnActorTheProseNowStatesReplacesTheTitles) {
  const std::string dir = DirWithBundle("title");
  Write(dir + "/h.json", R"({"type":"threat-actor","uuid":"h","version":1,"values":[
{"value":"Hexane","uuid":"c3","meta":{}}]})");
  const std::string event = R"({"Event":{"uuid":"7a1d2c3b-5a49-4c87-9e6d-0a1b2c3d4e5f",
 "info":"APT28 phishing wave","EventReport":[{"name":"Note",
 "content":"We assess that the wave was carried out by Hexane."}]}})";
  auto store = Store::Open(dir + "/late.db");
  ASSERT_TRUE(store.ok()) << store.status();
  auto read = ingest::ParseMisp(event, "event.json", {});
  ASSERT_TRUE(read.ok()) << read.status();
  const std::string id = read->incidents.at(0).id;
  ASSERT_TRUE((*store)->Ingest(read->incidents).ok());
  ASSERT_TRUE(Import(**store, {dir + "/a.json"}).ok());
  auto inc = (*store)->GetIncident(id);
  ASSERT_TRUE(inc.ok());
  ASSERT_EQ(inc->attributions.size(), 1u);
  EXPECT_EQ(inc->attributions[0].actor_id, "G0007");
  EXPECT_EQ(inc->attributions[0].source, "MISP event title");

  auto sum = Import(**store, {dir + "/h.json"});
  ASSERT_TRUE(sum.ok()) << sum.status();
  EXPECT_EQ(sum->incidents_relinked, 1u);
  inc = (*store)->GetIncident(id);
  ASSERT_TRUE(inc.ok());
  ASSERT_EQ(inc->attributions.size(), 1u) << Describe(*inc);
  EXPECT_EQ(inc->attributions[0].actor_name, "Hexane");
  EXPECT_EQ(inc->attributions[0].source, "MISP event report");

  auto first = OpenKbFirst(dir, {dir + "/a.json", dir + "/h.json"});
  ASSERT_TRUE(first.ok()) << first.status();
  auto read_with_kb = ingest::ParseMisp(event, "event.json", first->with_kb);
  ASSERT_TRUE(read_with_kb.ok()) << read_with_kb.status();
  EXPECT_TRUE(LinksOf(*inc) == LinksOf(read_with_kb->incidents.at(0)))
      << Describe(*inc) << "\n"
      << Describe(read_with_kb->incidents.at(0));
}

// A STIX report stored before the store kept prose: its description column is read instead
// (located "description:line:col", since its place in the bundle was not kept).
TEST(KbImport, ReadsTheDescriptionOfAReportStoredWithoutProse) {
  const std::string dir = DirWithBundle("noprose");
  auto store = Store::Open(dir + "/kb.db");
  ASSERT_TRUE(store.ok()) << store.status();
  std::vector<Incident> old(1);
  old[0].id = "report--00000000-0000-4000-8000-000000000001";
  old[0].title = "Phishing wave";
  old[0].description = "The wave was carried out by Sofacy, with X-Agent.";
  old[0].provenance = {"old.json", "stix", "ab"};
  ASSERT_TRUE((*store)->Ingest(old).ok());
  auto sum = Import(**store, {dir + "/a.json"});
  ASSERT_TRUE(sum.ok()) << sum.status();
  EXPECT_EQ(sum->incidents_relinked, 1u);
  auto inc = (*store)->GetIncident(old[0].id);
  ASSERT_TRUE(inc.ok());
  ASSERT_EQ(inc->attributions.size(), 1u);
  EXPECT_EQ(inc->attributions[0].actor_id, "G0007");
  EXPECT_EQ(inc->attributions[0].location.substr(0, 12), "description:");
  ASSERT_EQ(inc->software.size(), 1u);
  EXPECT_EQ(inc->software[0].id, "S0023");
}

// More incidents to re-link than one batch holds (kb_store.cc writes them back in batches of
// 256): every one is re-linked, once, and the import is one write that changed more than
// incidents, so an index of the store before it cannot catch up from the journal.
TEST(KbImport, ReLinksEveryIncidentAcrossBatchesInOneWrite) {
  const std::string dir = DirWithBundle("batches");
  auto store = Store::Open(dir + "/kb.db");
  ASSERT_TRUE(store.ok()) << store.status();
  constexpr size_t kIncidents = 600;
  std::vector<Incident> stored(kIncidents);
  for (size_t i = 0; i < kIncidents; ++i) {
    stored[i].id = "incident-" + std::to_string(i);
    stored[i].provenance = {"feed.json", "misp", "cd"};
    // Every other one states an actor and names a tool, which only the KB resolves.
    if (i % 2 == 0) {
      Attribution a;
      a.actor_name = "Sofacy";
      a.source = "MISP galaxy threat-actor";
      stored[i].attributions.push_back(a);
      kinship::Software sw;
      sw.name = "X-Agent";
      stored[i].software.push_back(sw);
    }
  }
  ASSERT_TRUE((*store)->Ingest(stored).ok());
  auto key = (*store)->SnapshotKey();
  ASSERT_TRUE(key.ok());

  // The steps as they start and end: (step, done, total).
  std::vector<std::tuple<std::string, size_t, size_t>> told;
  auto sum =
      Import(**store, {dir + "/a.json"}, [&](std::string_view step, size_t done, size_t total) {
        if (done == 0 || done == total) told.emplace_back(step, done, total);
      });
  ASSERT_TRUE(sum.ok()) << sum.status();
  EXPECT_EQ(sum->incidents_relinked, kIncidents / 2);
  using Told = std::tuple<std::string, size_t, size_t>;
  EXPECT_EQ(told,
            (std::vector<Told>{
                {"reading the stored incidents' links", 0, kIncidents},
                {"reading the stored incidents' links", kIncidents, kIncidents},
                {"re-linking the incidents whose links change", 0, kIncidents / 2},
                {"re-linking the incidents whose links change", kIncidents / 2, kIncidents / 2}}));
  size_t seen = 0;
  ASSERT_TRUE((*store)
                  ->ForEachIncident([&](Incident& inc) {
                    ++seen;
                    const size_t i = std::stoul(inc.id.substr(9));
                    if (i % 2 == 0) {
                      EXPECT_EQ(inc.attributions.size(), 1u) << inc.id;
                      EXPECT_EQ(inc.attributions.at(0).actor_id, "G0007") << inc.id;
                      EXPECT_EQ(inc.software.at(0).id, "S0023") << inc.id;
                    } else {
                      EXPECT_TRUE(inc.attributions.empty()) << inc.id;
                    }
                    return true;
                  })
                  .ok());
  EXPECT_EQ(seen, kIncidents);
  auto since = (*store)->ChangesSince(*key);
  ASSERT_TRUE(since.ok()) << since.status();
  EXPECT_FALSE(since->has_value()) << "a KB import is not an ingest: indexes must be rebuilt";
}

// A re-linking that fails (here: stored prose damaged behind kinship's back) rolls the whole
// import back: the KB's sources are not written either, and the store keeps its key.
TEST(KbImport, AFailedReLinkingLeavesTheStoreAsItWas) {
  const std::string dir = DirWithBundle("rollback");
  auto store = Store::Open(dir + "/kb.db");
  ASSERT_TRUE(store.ok()) << store.status();
  auto read = ingest::ParseReport("Note\n\nThe implant was X-Agent; carried out by Sofacy.\n",
                                  "note.txt", {});
  ASSERT_TRUE(read.ok()) << read.status();
  const std::string id = read->incidents.at(0).id;
  ASSERT_TRUE((*store)->Ingest(read->incidents).ok());
  ASSERT_TRUE((*store)->impl()->db().Exec("UPDATE prose SET kind = 'scroll'").ok());
  auto key = (*store)->SnapshotKey();
  ASSERT_TRUE(key.ok());

  auto sum = Import(**store, {dir + "/a.json"});
  ASSERT_EQ(sum.status().code(), absl::StatusCode::kDataLoss) << sum.status();
  EXPECT_NE(sum.status().message().find(id), std::string_view::npos) << sum.status();
  auto kb = KnowledgeBase::Load(**store);
  ASSERT_TRUE(kb.ok()) << kb.status();
  EXPECT_TRUE(kb->sources().empty());
  EXPECT_TRUE(kb->Resolve("Sofacy").empty());
  auto after = (*store)->SnapshotKey();
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*after, *key);
  auto inc = (*store)->GetIncident(id);
  ASSERT_TRUE(inc.ok());
  EXPECT_TRUE(inc->software.empty());
}

// A STIX bundle read before the KB, in which only the playbook's description names the actor
// (by an alias the KB knows): the import passes it down the chain of reports the playbook lists,
// as an ingest with the KB does; not over a report that states its own, nor to a report listed
// also by one that states its own (report--shared, listed by report--mid and report--other: the
// ingest gives it report--other's). A second import changes nothing.
TEST(KbImport, PassesTheActorAListingReportNowStatesDownAsIngestDoes) {
  const std::string dir = DirWithBundle("lists");
  const std::string bundle = R"({"type":"bundle","id":"bundle--l","objects":[
 {"type":"report","id":"report--top","name":"Playbook","object_refs":["report--mid","report--own"],
  "description":"We assess that these campaigns were carried out by Sofacy."},
 {"type":"report","id":"report--mid","name":"Campaign A",
  "object_refs":["indicator--a","report--leaf","report--shared"]},
 {"type":"indicator","id":"indicator--a","pattern_type":"stix","pattern":"[ipv4-addr:value = '198.51.100.7']"},
 {"type":"report","id":"report--leaf","name":"Campaign A, part 2","object_refs":["indicator--a"]},
 {"type":"report","id":"report--own","name":"Campaign B","object_refs":["intrusion-set--o"]},
 {"type":"intrusion-set","id":"intrusion-set--o","name":"Other Panda"},
 {"type":"report","id":"report--other","name":"Campaign C","object_refs":["report--shared","intrusion-set--o"]},
 {"type":"report","id":"report--shared","name":"Campaign C, part 2","object_refs":["indicator--a"]},
 {"type":"report","id":"report--both","name":"Campaign D","object_refs":["report--shared2"]},
 {"type":"report","id":"report--shared2","name":"Campaign D, part 2","object_refs":["indicator--a"]}
]})";
  auto late = Store::Open(dir + "/late.db");
  ASSERT_TRUE(late.ok()) << late.status();
  auto read = ingest::ParseStix(bundle, "playbook.json", {});
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_TRUE((*late)->Ingest(read->incidents).ok());
  auto before = (*late)->GetIncident("report--leaf");
  ASSERT_TRUE(before.ok());
  EXPECT_TRUE(before->attributions.empty()) << Describe(*before);

  auto sum = Import(**late, {dir + "/a.json"});
  ASSERT_TRUE(sum.ok()) << sum.status();
  EXPECT_EQ(sum->incidents_relinked, 3u);  // the playbook, report--mid and report--leaf

  auto first = OpenKbFirst(dir, {dir + "/a.json"});
  ASSERT_TRUE(first.ok()) << first.status();
  auto read_with_kb = ingest::ParseStix(bundle, "playbook.json", first->with_kb);
  ASSERT_TRUE(read_with_kb.ok()) << read_with_kb.status();
  for (const Incident& reference : read_with_kb->incidents) {
    auto after = (*late)->GetIncident(reference.id);
    ASSERT_TRUE(after.ok()) << after.status();
    EXPECT_TRUE(after->attributions == reference.attributions) << reference.id << "\n"
                                                               << Describe(*after) << "\n"
                                                               << Describe(reference);
  }
  auto leaf = (*late)->GetIncident("report--leaf");
  ASSERT_TRUE(leaf.ok());
  ASSERT_EQ(leaf->attributions.size(), 1u);
  EXPECT_EQ(leaf->attributions[0].actor_id, "G0007");
  EXPECT_EQ(leaf->attributions[0].snippet,
            "stated by the containing report 'Campaign A' (report--mid); stated by the containing "
            "report 'Playbook' (report--top); We assess that these campaigns were carried out by "
            "Sofacy.");
  for (const char* id : {"report--own", "report--shared"}) {
    auto inc = (*late)->GetIncident(id);
    ASSERT_TRUE(inc.ok());
    ASSERT_EQ(inc->attributions.size(), 1u) << id;
    EXPECT_EQ(inc->attributions[0].actor_name, "Other Panda") << id;
  }
  auto shared2 = (*late)->GetIncident("report--shared2");
  ASSERT_TRUE(shared2.ok());
  EXPECT_TRUE(shared2->attributions.empty()) << Describe(*shared2);
  auto listings = (*late)->Listings();
  ASSERT_TRUE(listings.ok());
  EXPECT_EQ(listings->size(), 6u) << "what the re-linked reports list goes back with them";

  auto again = Import(**late, {dir + "/a.json"});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->incidents_relinked, 0u);
}

// A listed report stored again from another file (a later bundle that holds it alone) states
// what that file states: the playbook read before it does not pass its actor down to it, as an
// ingest with the KB of the playbook and then of the later file does not.
TEST(KbImport, PassesNoActorToAListedReportStoredAgainFromAnotherFile) {
  const std::string dir = DirWithBundle("lists-again");
  const std::string playbook = R"({"type":"bundle","id":"bundle--p","objects":[
 {"type":"report","id":"report--top","name":"Playbook","object_refs":["report--mid"],
  "description":"We assess that these campaigns were carried out by Sofacy."},
 {"type":"report","id":"report--mid","name":"Campaign A","object_refs":["indicator--a"]},
 {"type":"indicator","id":"indicator--a","pattern_type":"stix","pattern":"[ipv4-addr:value = '198.51.100.7']"}
]})";
  const std::string later = R"({"type":"bundle","id":"bundle--m","objects":[
 {"type":"report","id":"report--mid","name":"Campaign A, revised","object_refs":["indicator--b"]},
 {"type":"indicator","id":"indicator--b","pattern_type":"stix","pattern":"[ipv4-addr:value = '198.51.100.8']"}
]})";
  auto ingest = [](Store& store, const std::string& json, const std::string& name,
                   const ingest::Options& options) -> absl::Status {
    KINSHIP_ASSIGN_OR_RETURN(ingest::ParseOutput read, ingest::ParseStix(json, name, options));
    for (Incident& inc : read.incidents) inc.provenance = {name, "stix", name + "-sha256"};
    return store.Ingest(read.incidents).status();
  };
  auto late = Store::Open(dir + "/late.db");
  ASSERT_TRUE(late.ok()) << late.status();
  ASSERT_TRUE(ingest(**late, playbook, "playbook.json", {}).ok());
  ASSERT_TRUE(ingest(**late, later, "later.json", {}).ok());
  auto sum = Import(**late, {dir + "/a.json"});
  ASSERT_TRUE(sum.ok()) << sum.status();
  EXPECT_EQ(sum->incidents_relinked, 1u);  // the playbook

  auto first = OpenKbFirst(dir, {dir + "/a.json"});
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(ingest(*first->store, playbook, "playbook.json", first->with_kb).ok());
  ASSERT_TRUE(ingest(*first->store, later, "later.json", first->with_kb).ok());
  for (const char* id : {"report--top", "report--mid"}) {
    auto after = (*late)->GetIncident(id);
    auto reference = first->store->GetIncident(id);
    ASSERT_TRUE(after.ok() && reference.ok()) << id;
    EXPECT_TRUE(after->attributions == reference->attributions) << id << "\n"
                                                                << Describe(*after) << "\n"
                                                                << Describe(*reference);
  }
  auto mid = (*late)->GetIncident("report--mid");
  ASSERT_TRUE(mid.ok());
  EXPECT_TRUE(mid->attributions.empty()) << Describe(*mid);
}

}  // namespace
}  // namespace kinship::kb
