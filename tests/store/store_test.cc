#include "kinship/store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "kinship/similarity.h"
#include "store/migrations.h"
#include "store/value_incidents.h"
#include "testing/data.h"

namespace kinship {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;
using ::testing::UnorderedElementsAre;
using ::testing::UnorderedElementsAreArray;

std::string FreshPath(const std::string& name) {
  fs::path p = fs::path(testing::TempDir()) / name;
  fs::remove(p);
  fs::remove(p.string() + "-wal");
  fs::remove(p.string() + "-shm");
  return p.string();
}

// The offsets where two files' bytes differ (at most 8), for a readable failure message.
std::string FirstDifferences(const std::string& a, const std::string& b) {
  std::string out = absl::StrCat("sizes ", a.size(), " and ", b.size(), "; differ at");
  int shown = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()) && shown < 8; ++i) {
    if (a[i] != b[i]) {
      absl::StrAppend(&out, " ", i);
      ++shown;
    }
  }
  return out;
}

std::string FileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Indicator Valid(IndicatorType type, std::string value, std::string raw = "") {
  Indicator ind = Indicator::Raw(type, raw.empty() ? value : raw, "Event.Attribute[0]");
  ind.value = std::move(value);
  return ind;
}

// A value derived from another indicator (normalize::Derive's kinds), valid and canonical.
Indicator Derived(IndicatorType type, std::string value, Derivation derivation) {
  Indicator ind = Valid(type, std::move(value));
  ind.derivation = derivation;
  return ind;
}

Incident Sample(std::string id) {
  Incident inc;
  inc.id = std::move(id);
  inc.title = "Bundestag intrusion";
  inc.source = "CERT-Bund";
  inc.first_seen = "2015-04-30";
  inc.tlp = Tlp::kGreen;
  inc.tags = {"tlp:green", "misp-galaxy:threat-actor=\"Sofacy\""};
  inc.victim = {"Deutscher Bundestag", "government", "DE"};
  inc.indicators.push_back(Valid(IndicatorType::kIpv4, "176.31.112.10", "176.31.112[.]10"));
  Indicator bad = Indicator::Raw(IndicatorType::kIpv4, "300.1.1.1", "Event.Attribute[1]");
  bad.error = "octet out of range";
  inc.indicators.push_back(bad);
  inc.indicators.push_back(Derived(IndicatorType::kCidr, "176.31.112.0/24", Derivation::kNetwork));
  inc.techniques = {{"T1566.002", "Spearphishing Link"}};
  inc.software = {{"X-Agent", "S0161", "malware"}};
  inc.attributions = {{"Sofacy", "G0007", 80, "MISP galaxy threat-actor"}};
  inc.provenance = {"bundestag.json", "misp", "ab12"};
  return inc;
}

TEST(Store, CreatesAndMigratesToLatestSchema) {
  auto store = Store::Open(FreshPath("create.db"));
  ASSERT_TRUE(store.ok()) << store.status();
  auto stats = (*store)->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->schema_version, 11);
  EXPECT_EQ(stats->schema_version, store::LatestSchemaVersion());
  EXPECT_EQ(stats->incidents, 0u);
}

// The prose an incident was read from is kept beside it (for kb import to read again), read
// only by Store::Prose, replaced with the incident and taken out with it.
TEST(Store, KeepsProseBesideItsIncidentAndTakesItOutWithIt) {
  auto store = Store::Open(FreshPath("prose.db"));
  ASSERT_TRUE(store.ok()) << store.status();
  std::vector<Incident> batch = {Sample("p1"), Sample("p2")};
  ProseText html;
  html.source = "report text";
  html.kind = "html";
  html.text = "# Heading\n\nCarried out by Sofacy.\n";
  html.title = "Heading";
  html.self_host = "example.org";
  html.anchors = {{0, 9}, {11, 12}};
  ProseText md;
  md.where = "Event.EventReport[1].content";
  md.source = "MISP event report";
  md.kind = "markdown";
  md.text = "CHOPSTICK beacons.";
  batch[0].prose = {html, md};
  ASSERT_TRUE((*store)->Ingest(batch).ok());

  auto prose = (*store)->Prose("p1");
  ASSERT_TRUE(prose.ok()) << prose.status();
  ASSERT_EQ(prose->size(), 2u);
  EXPECT_EQ((*prose)[0].where, "");
  EXPECT_EQ((*prose)[0].source, "report text");
  EXPECT_EQ((*prose)[0].kind, "html");
  EXPECT_EQ((*prose)[0].text, html.text);
  EXPECT_EQ((*prose)[0].title, "Heading");
  EXPECT_EQ((*prose)[0].self_host, "example.org");
  EXPECT_EQ((*prose)[0].anchors, html.anchors);
  EXPECT_EQ((*prose)[1].where, "Event.EventReport[1].content");
  EXPECT_EQ((*prose)[1].text, "CHOPSTICK beacons.");
  EXPECT_THAT(*(*store)->IncidentsWithProse(), ElementsAre("p1"));
  // No incident read carries it.
  auto read = (*store)->GetIncident("p1");
  ASSERT_TRUE(read.ok());
  EXPECT_THAT(read->prose, IsEmpty());
  EXPECT_THAT(*(*store)->Prose("p2"), IsEmpty());
  EXPECT_THAT(*(*store)->Prose("absent"), IsEmpty());

  // Replaced with the incident: the new version's prose, not both.
  std::vector<Incident> again = {Sample("p1")};
  again[0].provenance.sha256 = "cd34";
  again[0].prose = {md};
  ASSERT_TRUE((*store)->Ingest(again).ok());
  prose = (*store)->Prose("p1");
  ASSERT_EQ(prose->size(), 1u);
  EXPECT_EQ((*prose)[0].kind, "markdown");

  ASSERT_TRUE((*store)->Remove({"p1"}).ok());
  EXPECT_THAT(*(*store)->Prose("p1"), IsEmpty());
  EXPECT_THAT(*(*store)->IncidentsWithProse(), IsEmpty());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((*store)->path().c_str(), &db), SQLITE_OK);
  sqlite3_stmt* count = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT count(*) FROM prose", -1, &count, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(count), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(count, 0), 0) << "a removed incident's prose is left behind";
  sqlite3_finalize(count);
  sqlite3_close(db);
}

// What a STIX report lists is kept beside it, read only by Store::Listings (by listing report in
// storage order, then in its order), replaced with it and taken out with it.
TEST(Store, KeepsWhatAReportListsAndTakesItOutWithIt) {
  auto store = Store::Open(FreshPath("lists.db"));
  ASSERT_TRUE(store.ok()) << store.status();
  std::vector<Incident> batch = {Sample("top"), Sample("mid"), Sample("leaf")};
  batch[0].lists = {"mid", "leaf"};
  batch[1].lists = {"leaf"};
  ASSERT_TRUE((*store)->Ingest(batch).ok());
  using L = std::pair<std::string, std::string>;
  auto pairs = [&]() {
    std::vector<L> out;
    absl::StatusOr<std::vector<Store::Listing>> listings = (*store)->Listings();
    EXPECT_TRUE(listings.ok()) << listings.status();
    if (listings.ok()) {
      for (const Store::Listing& l : *listings) out.emplace_back(l.incident, l.listed);
    }
    return out;
  };
  EXPECT_THAT(pairs(), ElementsAre(L{"top", "mid"}, L{"top", "leaf"}, L{"mid", "leaf"}));
  auto read = (*store)->GetIncident("top");
  ASSERT_TRUE(read.ok());
  EXPECT_THAT(read->lists, IsEmpty()) << "no incident read carries it";

  // Replaced with the incident: the new version's list, not both.
  std::vector<Incident> again = {Sample("top")};
  again[0].provenance.sha256 = "cd34";
  again[0].lists = {"leaf"};
  ASSERT_TRUE((*store)->Ingest(again).ok());
  EXPECT_THAT(pairs(), ElementsAre(L{"mid", "leaf"}, L{"top", "leaf"}));

  ASSERT_TRUE((*store)->Remove({"mid", "top"}).ok());
  EXPECT_THAT(pairs(), IsEmpty());
}

// Provenance::first_stored: when the store first held an incident with the id, to the
// millisecond, kept across replacement (what a STIX export's `created` is) and new after removal.
TEST(Store, KeepsTheTimeItFirstHeldAnIncidentAcrossReplacement) {
  auto store = Store::Open(FreshPath("first-stored.db"));
  ASSERT_TRUE(store.ok()) << store.status();
  auto first_stored = [&](const std::string& id) {
    absl::StatusOr<Incident> got = (*store)->GetIncident(id, Store::Detail::kAnalysis);
    EXPECT_TRUE(got.ok()) << got.status();
    return got.ok() ? got->provenance.first_stored : std::string();
  };
  std::vector<Incident> batch = {Sample("a")};
  batch[0].provenance.first_stored = "1999-01-01T00:00:00.000Z";  // not the store's to take
  ASSERT_TRUE((*store)->Ingest(batch).ok());
  const std::string a = first_stored("a");
  EXPECT_THAT(a, MatchesRegex("20[0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]"
                              "\\.[0-9][0-9][0-9]Z"));
  EXPECT_EQ(batch[0].provenance.first_stored, a) << "Ingest says what it stored";

  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::vector<Incident> again = {Sample("a"), Sample("b")};
  again[0].provenance.sha256 = "another file";
  auto sum = (*store)->Ingest(again);
  ASSERT_TRUE(sum.ok()) << sum.status();
  ASSERT_EQ(sum->incidents_updated, 1u);
  EXPECT_EQ(first_stored("a"), a) << "a replacement keeps it";
  EXPECT_GT(first_stored("b"), a);
  auto list = (*store)->ListIncidents();
  ASSERT_TRUE(list.ok());
  std::vector<std::pair<std::string, std::string>> listed;
  for (const IncidentSummary& i : *list) listed.emplace_back(i.id, i.first_stored);
  EXPECT_THAT(listed,
              UnorderedElementsAre(std::pair<std::string, std::string>{"a", a},
                                   std::pair<std::string, std::string>{"b", first_stored("b")}));

  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE((*store)->Remove({"a"}).ok());
  std::vector<Incident> back = {Sample("a")};
  ASSERT_TRUE((*store)->Ingest(back).ok());
  EXPECT_GT(first_stored("a"), first_stored("b")) << "removed, then stored anew";
}

// Provenance::source_modified: an incident the source says is older than the stored version is
// left out and named; one as new, newer, or of a source that says nothing replaces it.
TEST(Store, LeavesAnOlderVersionOutAndKeepsTheNewer) {
  auto store = Store::Open(FreshPath("versions.db"));
  ASSERT_TRUE(store.ok()) << store.status();
  auto version = [](std::string title, std::string modified, std::string sha) {
    Incident inc = Sample("v");
    inc.title = std::move(title);
    inc.provenance.source_modified = std::move(modified);
    inc.provenance.sha256 = std::move(sha);
    return inc;
  };
  auto title = [&]() {
    absl::StatusOr<Incident> got = (*store)->GetIncident("v");
    EXPECT_TRUE(got.ok()) << got.status();
    return got.ok() ? got->title : std::string();
  };
  std::vector<Incident> batch = {version("March", "2021-03-01T10:00:00Z", "s1")};
  ASSERT_TRUE((*store)->Ingest(batch).ok());

  batch = {version("February", "2021-02-01T10:00:00.999Z", "s2")};
  auto sum = (*store)->Ingest(batch);
  ASSERT_TRUE(sum.ok()) << sum.status();
  EXPECT_THAT(sum->older, ElementsAre("v"));
  EXPECT_EQ(sum->incidents_updated, 0u);
  EXPECT_THAT(sum->write.leaving, IsEmpty());
  EXPECT_EQ(title(), "March");

  // The same time, written with milliseconds: not older.
  batch = {version("March again", "2021-03-01T10:00:00.000Z", "s3")};
  sum = (*store)->Ingest(batch);
  ASSERT_TRUE(sum.ok()) << sum.status();
  EXPECT_THAT(sum->older, IsEmpty());
  EXPECT_EQ(sum->incidents_updated, 1u);
  EXPECT_EQ(title(), "March again");

  // Within one call too: the newer stays, wherever it comes.
  batch = {version("May", "2021-05-01T00:00:00Z", "s4"),
           version("April", "2021-04-01T00:00:00Z", "s5")};
  sum = (*store)->Ingest(batch);
  ASSERT_TRUE(sum.ok()) << sum.status();
  EXPECT_THAT(sum->older, ElementsAre("v"));
  EXPECT_EQ(title(), "May");

  // A source that says nothing of its version replaces any.
  batch = {version("undated", "", "s6")};
  sum = (*store)->Ingest(batch);
  ASSERT_TRUE(sum.ok()) << sum.status();
  EXPECT_THAT(sum->older, IsEmpty());
  EXPECT_EQ(title(), "undated");
}

TEST(Store, MissingStoreWithoutCreateIsNotFound) {
  auto store = Store::Open(FreshPath("absent.db"), /*create=*/false);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kNotFound);
}

TEST(Store, RejectsAnotherProgramsDatabase) {
  std::string path = FreshPath("foreign.db");
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(
      sqlite3_exec(db, "CREATE TABLE t(x); INSERT INTO t VALUES (1);", nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(db);
  auto store = Store::Open(path);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss) << store.status();
  EXPECT_THAT(std::string(store.status().message()), ::testing::HasSubstr(path));
}

TEST(Store, RejectsGarbageFile) {
  std::string path = FreshPath("garbage.db");
  std::ofstream(path) << std::string(8192, 'x');
  auto store = Store::Open(path);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss) << store.status();
}

TEST(Store, RefusesSchemaNewerThanBuild) {
  std::string path = FreshPath("newer.db");
  { ASSERT_TRUE(Store::Open(path).ok()); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto store = Store::Open(path);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition) << store.status();
}

TEST(Store, IngestRoundTripsEveryField) {
  auto store = Store::Open(FreshPath("roundtrip.db"));
  ASSERT_TRUE(store.ok());
  std::vector<Incident> batch = {Sample("evt-1")};
  auto sum = (*store)->Ingest(batch);
  ASSERT_TRUE(sum.ok()) << sum.status();
  EXPECT_EQ(sum->incidents_added, 1u);
  EXPECT_EQ(sum->indicators, 3u);
  EXPECT_EQ(sum->invalid_indicators, 1u);

  auto got = (*store)->GetIncident("evt-1");
  ASSERT_TRUE(got.ok()) << got.status();
  const Incident want = Sample("evt-1");
  EXPECT_EQ(got->title, want.title);
  EXPECT_EQ(got->source, want.source);
  EXPECT_EQ(got->tlp, Tlp::kGreen);
  EXPECT_EQ(got->tags, want.tags);
  EXPECT_EQ(got->victim.country, "DE");
  ASSERT_EQ(got->indicators.size(), 3u);
  EXPECT_EQ(got->indicators[0].value, "176.31.112.10");
  EXPECT_EQ(got->indicators[0].raw, "176.31.112[.]10");
  EXPECT_EQ(got->indicators[0].location, "Event.Attribute[0]");
  EXPECT_FALSE(got->indicators[1].valid());
  EXPECT_EQ(got->indicators[1].error, "octet out of range");
  EXPECT_EQ(got->indicators[2].derivation, Derivation::kNetwork);
  ASSERT_EQ(got->techniques.size(), 1u);
  EXPECT_EQ(got->techniques[0].id, "T1566.002");
  ASSERT_EQ(got->software.size(), 1u);
  EXPECT_EQ(got->software[0].id, "S0161");
  ASSERT_EQ(got->attributions.size(), 1u);
  EXPECT_EQ(got->attributions[0].actor_id, "G0007");
  EXPECT_EQ(got->attributions[0].confidence, 80);
  EXPECT_EQ(got->provenance.format, "misp");

  EXPECT_EQ((*store)->GetIncident("nope").status().code(), absl::StatusCode::kNotFound);
}

// Where each item was found (a report's line:col and the text around it, or a JSON path) is
// stored for indicators, techniques, software, stated attributions and actor mentions.
Incident WithPlaces(std::string id) {
  Incident inc = Sample(std::move(id));
  inc.indicators[0].location = "12:7";
  inc.indicators[0].snippet = "...the implant beacons to 176.31.112[.]10 every hour";
  inc.techniques[0].location = "3:15";
  inc.techniques[0].snippet = "Lures used T1566.002 links";
  inc.software[0].location = "p2:4:1";
  inc.software[0].snippet = "X-Agent was dropped";
  inc.attributions[0].location = "9:30";
  inc.attributions[0].snippet = "We attribute this campaign to Sofacy with high confidence.";
  ActorMention m;
  m.name = "APT29";
  m.id = "G0016";
  m.location = "20:8";
  m.snippet = "Unlike APT29, this actor...";
  m.occurrences = 3;
  inc.actor_mentions.push_back(m);
  return inc;
}

TEST(Store, LocationsAndSnippetsRoundTrip) {
  auto store = Store::Open(FreshPath("places.db"));
  ASSERT_TRUE(store.ok());
  // More indicators than one multi-row INSERT holds, so both write paths carry the snippet.
  Incident inc = WithPlaces("evt-1");
  for (int i = 0; i < 40; ++i) {
    Indicator ind = Valid(IndicatorType::kDomain, absl::StrCat("h", i, ".example.org"));
    ind.location = absl::StrCat(100 + i, ":1");
    ind.snippet = absl::StrCat("snippet ", i);
    inc.indicators.push_back(std::move(ind));
  }
  std::vector<Incident> batch = {inc};
  ASSERT_TRUE((*store)->Ingest(batch).ok());
  auto got = (*store)->GetIncident("evt-1");
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->indicators.size(), inc.indicators.size());
  for (size_t i = 0; i < inc.indicators.size(); ++i) {
    EXPECT_EQ(got->indicators[i].location, inc.indicators[i].location) << i;
    EXPECT_EQ(got->indicators[i].snippet, inc.indicators[i].snippet) << i;
  }
  EXPECT_EQ(got->indicators[0].snippet, "...the implant beacons to 176.31.112[.]10 every hour");
  ASSERT_EQ(got->techniques.size(), 1u);
  EXPECT_EQ(got->techniques[0].location, "3:15");
  EXPECT_EQ(got->techniques[0].snippet, "Lures used T1566.002 links");
  ASSERT_EQ(got->software.size(), 1u);
  EXPECT_EQ(got->software[0].location, "p2:4:1");
  EXPECT_EQ(got->software[0].snippet, "X-Agent was dropped");
  ASSERT_EQ(got->attributions.size(), 1u);
  EXPECT_EQ(got->attributions[0].location, "9:30");
  EXPECT_EQ(got->attributions[0].snippet,
            "We attribute this campaign to Sofacy with high confidence.");
  ASSERT_EQ(got->actor_mentions.size(), 1u);
  EXPECT_EQ(got->actor_mentions[0].name, "APT29");
  EXPECT_EQ(got->actor_mentions[0].id, "G0016");
  EXPECT_EQ(got->actor_mentions[0].location, "20:8");
  EXPECT_EQ(got->actor_mentions[0].snippet, "Unlike APT29, this actor...");
  EXPECT_EQ(got->actor_mentions[0].occurrences, 3);

  // Re-ingesting the incident replaces its mentions too (no duplicates).
  Incident again = WithPlaces("evt-1");
  again.actor_mentions[0].location = "21:1";
  std::vector<Incident> second = {again};
  ASSERT_TRUE((*store)->Ingest(second).ok());
  got = (*store)->GetIncident("evt-1");
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->actor_mentions.size(), 1u);
  EXPECT_EQ(got->actor_mentions[0].location, "21:1");
}

int64_t QueryInt(sqlite3* db, const char* sql) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) != SQLITE_OK) return -1;
  int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
  sqlite3_finalize(st);
  return v;
}

// A store written by the previous release (schema v2: migrations 1 and 2 only, rows in every
// child table) opens, upgrades to the latest version in place, keeps every row, and reads the new
// fields as empty; new ingests then fill them.
TEST(Store, UpgradesSchemaTwoStoreWithDataInPlace) {
  std::string path = FreshPath("v2.db");
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    const auto& migrations = store::Migrations();
    ASSERT_GE(migrations.size(), 3u);
    ASSERT_EQ(migrations[1].version, 2);
    for (size_t i = 0; i < 2; ++i) {
      const std::string sql(migrations[i].sql);
      ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
          << sqlite3_errmsg(db);
    }
    // As the v2 store wrote them (column lists of that version).
    const char* rows = R"sql(
      PRAGMA application_id = 1263424328; PRAGMA user_version = 2;
      INSERT INTO incident (rowid, id, title, prov_format) VALUES (1, 'old-1', 'Old report', 'report');
      INSERT INTO value (id, type, value) VALUES (1, 0, '45.137.22.13');
      INSERT INTO indicator (incident, seq, value_id, type, raw, comment, location)
        VALUES (1, 0, 1, 0, '45.137.22[.]13', 'found in table: "C2 45.137.22[.]13"', '4:3');
      INSERT INTO technique (incident, seq, id, name) VALUES (1, 0, 'T1566.001', 'Spearphishing');
      INSERT INTO software (incident, seq, name, id, kind) VALUES (1, 0, 'X-Agent', 'S0161', 'malware');
      INSERT INTO attribution (incident, seq, actor_name, actor_id, confidence, source)
        VALUES (1, 0, 'APT28', 'G0007', 80, 'report text at 7:1: "..."');
    )sql";
    ASSERT_EQ(sqlite3_exec(db, rows, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  {
    auto store = Store::Open(path, /*create=*/false);
    ASSERT_TRUE(store.ok()) << store.status();
    auto stats = (*store)->Stats();
    ASSERT_TRUE(stats.ok());
    EXPECT_EQ(stats->schema_version, store::LatestSchemaVersion());
    EXPECT_EQ(stats->incidents, 1u);
    EXPECT_EQ(stats->indicators, 1u);

    auto old = (*store)->GetIncident("old-1");
    ASSERT_TRUE(old.ok()) << old.status();
    ASSERT_EQ(old->indicators.size(), 1u);
    EXPECT_EQ(old->indicators[0].value, "45.137.22.13");
    EXPECT_EQ(old->indicators[0].raw, "45.137.22[.]13");
    EXPECT_EQ(old->indicators[0].location, "4:3");
    EXPECT_EQ(old->indicators[0].comment, "found in table: \"C2 45.137.22[.]13\"");
    EXPECT_EQ(old->indicators[0].snippet, "");
    ASSERT_EQ(old->techniques.size(), 1u);
    EXPECT_EQ(old->techniques[0].id, "T1566.001");
    EXPECT_EQ(old->techniques[0].location, "");
    ASSERT_EQ(old->software.size(), 1u);
    EXPECT_EQ(old->software[0].id, "S0161");
    EXPECT_EQ(old->software[0].snippet, "");
    ASSERT_EQ(old->attributions.size(), 1u);
    EXPECT_EQ(old->attributions[0].actor_id, "G0007");
    EXPECT_EQ(old->attributions[0].confidence, 80);
    EXPECT_EQ(old->attributions[0].location, "");
    EXPECT_TRUE(old->actor_mentions.empty());
    // v11: the time it was stored, which is all v2 kept, as the time it was first stored.
    EXPECT_THAT(old->provenance.first_stored,
                MatchesRegex("20[0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]"
                             "\\.000Z"));

    // The v4 migration filled value_incidents from the old rows.
    auto holders = (*store)->IncidentsWithValue(IndicatorType::kIpv4, "45.137.22.13");
    ASSERT_TRUE(holders.ok()) << holders.status();
    EXPECT_THAT(holders->incident_ids, ElementsAre("old-1"));
    // ... and gave old-1 its indicator id range (the count reads it).
    auto list = (*store)->ListIncidents();
    ASSERT_TRUE(list.ok());
    ASSERT_EQ(list->size(), 1u);
    EXPECT_EQ((*list)[0].indicators, 1u);

    std::vector<Incident> batch = {WithPlaces("new-1")};
    ASSERT_TRUE((*store)->Ingest(batch).ok());
    auto fresh = (*store)->GetIncident("new-1");
    ASSERT_TRUE(fresh.ok());
    EXPECT_EQ(fresh->techniques[0].snippet, "Lures used T1566.002 links");
    EXPECT_EQ(fresh->actor_mentions.size(), 1u);
  }
  // Opening again does not re-run the migration.
  {
    auto store = Store::Open(path, /*create=*/false);
    ASSERT_TRUE(store.ok()) << store.status();
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  EXPECT_EQ(QueryInt(db, "PRAGMA user_version"), store::LatestSchemaVersion());
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM actor_mention"), 1);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM technique WHERE snippet != ''"), 1);
  sqlite3_close(db);
}

// The same id twice in ONE call (a feed that repeats an event, or a bundle re-listing a
// report): the later one replaces the earlier, child rows and all, whatever the write batching.
TEST(Store, SameIdTwiceInOneCallKeepsOnlyTheLater) {
  for (size_t first_size : {3u, 31u, 32u, 33u, 70u}) {
    auto store = Store::Open(FreshPath("twice.db"));
    ASSERT_TRUE(store.ok());
    Incident a = Sample("evt-1");
    a.indicators.clear();
    for (size_t i = 0; i < first_size; ++i) {
      a.indicators.push_back(Valid(IndicatorType::kDomain, absl::StrCat("h", i, ".example.org")));
    }
    Incident b = Sample("evt-1");
    b.indicators.resize(1);
    std::vector<Incident> batch = {Sample("evt-0"), a, b};
    auto sum = (*store)->Ingest(batch);
    ASSERT_TRUE(sum.ok()) << sum.status();
    EXPECT_EQ(sum->incidents_added, 2u);
    EXPECT_EQ(sum->incidents_updated, 1u);
    auto stats = (*store)->Stats();
    ASSERT_TRUE(stats.ok());
    EXPECT_EQ(stats->incidents, 2u) << first_size;
    EXPECT_EQ(stats->indicators, 3u + 1u) << first_size;  // evt-0's three, evt-1's one
    auto got = (*store)->GetIncident("evt-1");
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(got->indicators.size(), 1u) << first_size;
  }
}

TEST(Store, ReingestingSameIdReplacesAndNeverDuplicates) {
  auto store = Store::Open(FreshPath("replace.db"));
  ASSERT_TRUE(store.ok());
  std::vector<Incident> first = {Sample("evt-1")};
  ASSERT_TRUE((*store)->Ingest(first).ok());
  Incident changed = Sample("evt-1");
  changed.title = "Bundestag intrusion (updated)";
  changed.indicators.resize(1);
  std::vector<Incident> second = {changed};
  auto sum = (*store)->Ingest(second);
  ASSERT_TRUE(sum.ok());
  EXPECT_EQ(sum->incidents_updated, 1u);
  EXPECT_EQ(sum->incidents_added, 0u);
  auto list = (*store)->ListIncidents();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].title, "Bundestag intrusion (updated)");
  EXPECT_EQ((*list)[0].indicators, 1u);
  auto stats = (*store)->Stats();
  EXPECT_EQ(stats->indicators, 1u);
}

TEST(Store, FailedIngestLeavesFileByteForByteUnchanged) {
  std::string path = FreshPath("atomic.db");
  {
    auto store = Store::Open(path);
    ASSERT_TRUE(store.ok());
    std::vector<Incident> batch = {Sample("evt-1")};
    ASSERT_TRUE((*store)->Ingest(batch).ok());
  }
  const std::string before = FileBytes(path);
  ASSERT_FALSE(before.empty());
  {
    auto store = Store::Open(path);
    ASSERT_TRUE(store.ok());
    Incident no_id = Sample("");
    std::vector<Incident> batch = {Sample("evt-2"), Sample("evt-3"), no_id};
    auto sum = (*store)->Ingest(batch);
    EXPECT_EQ(sum.status().code(), absl::StatusCode::kInvalidArgument);
    auto list = (*store)->ListIncidents();
    ASSERT_TRUE(list.ok());
    EXPECT_EQ(list->size(), 1u);
  }
  EXPECT_EQ(FileBytes(path), before);
  EXPECT_FALSE(fs::exists(path + "-wal") && fs::file_size(path + "-wal") > 0);
}

// The first load into a store created by this Store runs with a rollback journal (see
// FirstLoadJournal): failing, it writes nothing; succeeding, it leaves the store in WAL mode (file
// header bytes 18-19 = 2) for later ingests, whose failures leave the file byte for byte as before.
TEST(Store, FirstLoadIsAtomicAndEndsInWalMode) {
  std::string path = FreshPath("first.db");
  {
    auto store = Store::Open(path);
    ASSERT_TRUE(store.ok());
    std::vector<Incident> bad = {Sample("evt-1"), Sample("")};
    EXPECT_EQ((*store)->Ingest(bad).status().code(), absl::StatusCode::kInvalidArgument);
    auto list = (*store)->ListIncidents();
    ASSERT_TRUE(list.ok());
    EXPECT_TRUE(list->empty());
    std::vector<Incident> batch = {Sample("evt-1")};
    ASSERT_TRUE((*store)->Ingest(batch).ok());
    std::vector<Incident> more = {Sample("evt-2")};
    ASSERT_TRUE((*store)->Ingest(more).ok());
  }
  const std::string after = FileBytes(path);
  ASSERT_GT(after.size(), 20u);
  EXPECT_EQ(after[18], 2);
  EXPECT_EQ(after[19], 2);
  {
    auto store = Store::Open(path);
    ASSERT_TRUE(store.ok());
    auto list = (*store)->ListIncidents();
    ASSERT_TRUE(list.ok());
    EXPECT_EQ(list->size(), 2u);
    std::vector<Incident> bad = {Sample("evt-3"), Sample("")};
    EXPECT_EQ((*store)->Ingest(bad).status().code(), absl::StatusCode::kInvalidArgument);
  }
  const std::string failed = FileBytes(path);
  EXPECT_TRUE(failed == after) << FirstDifferences(after, failed);
}

Incident Big(std::string id, size_t n, size_t offset) {
  Incident inc = Sample(std::move(id));
  inc.indicators.clear();
  for (size_t i = 0; i < n; ++i) {
    // Values repeat within and across incidents (modulo 50000) so the value index has shared
    // entries.
    inc.indicators.push_back(
        Valid(IndicatorType::kDomain, absl::StrCat("h", (i + offset) % 50000, ".example.org")));
  }
  return inc;
}

std::vector<std::string> Holders(Store& store, const std::string& domain) {
  auto h = store.IncidentsWithValue(IndicatorType::kDomain, domain);
  EXPECT_TRUE(h.ok()) << h.status();
  return h.ok() ? h->incident_ids : std::vector<std::string>{"error"};
}

Incident Domains(std::string id, std::vector<std::string> domains) {
  Incident inc = Sample(std::move(id));
  inc.indicators.clear();
  for (std::string& d : domains) inc.indicators.push_back(Valid(IndicatorType::kDomain, d));
  return inc;
}

// Exact correlation from the store: a big first load (one segment per value), a later call adding
// a second segment, a failed call changing nothing.
TEST(Store, IncidentsWithValueAcrossCalls) {
  std::string path = FreshPath("bulk.db");
  {
    auto store = Store::Open(path);
    ASSERT_TRUE(store.ok());
    std::vector<Incident> batch = {Big("big-1", 60000, 0), Big("big-2", 60000, 30000)};
    auto sum = (*store)->Ingest(batch);
    ASSERT_TRUE(sum.ok()) << sum.status();
    EXPECT_EQ(sum->indicators, 120000u);
    auto stats = (*store)->Stats();
    ASSERT_TRUE(stats.ok());
    EXPECT_EQ(stats->distinct_values, 50000u);
    // h40000 is in big-1 (i = 40000) and in big-2 (i = 10000); h5 in big-1 twice (i = 5, 50005).
    EXPECT_THAT(Holders(**store, "h40000.example.org"), ElementsAre("big-1", "big-2"));
    EXPECT_THAT(Holders(**store, "h5.example.org"), ElementsAre("big-1", "big-2"));
    EXPECT_THAT(Holders(**store, "nowhere.example.org"), IsEmpty());
    std::vector<Incident> more = {Domains("small", {"h40000.example.org", "new.example.org"})};
    ASSERT_TRUE((*store)->Ingest(more).ok());
    EXPECT_THAT(Holders(**store, "h40000.example.org"), ElementsAre("big-1", "big-2", "small"));
    EXPECT_THAT(Holders(**store, "new.example.org"), ElementsAre("small"));
  }
  const std::string before = FileBytes(path);
  {
    auto store = Store::Open(path);
    ASSERT_TRUE(store.ok());
    std::vector<Incident> batch = {Big("big-3", 130000, 7), Sample("")};
    EXPECT_EQ((*store)->Ingest(batch).status().code(), absl::StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(FileBytes(path), before);
}

// Replacing an incident takes it out of the values it held, whether it was stored by an earlier
// call or written earlier in the same call, and even when the replacement reuses its rowid.
TEST(Store, IncidentsWithValueFollowReplacement) {
  auto store = Store::Open(FreshPath("holders.db"));
  ASSERT_TRUE(store.ok());
  std::vector<Incident> first = {Domains("a", {"one.example", "two.example"}),
                                 Domains("b", {"two.example"})};
  ASSERT_TRUE((*store)->Ingest(first).ok());
  EXPECT_THAT(Holders(**store, "two.example"), ElementsAre("a", "b"));
  // "b" has the largest rowid: its replacement may be given the same one.
  std::vector<Incident> second = {Domains("b", {"three.example", "two.example"}),
                                  Domains("a", {"three.example"})};
  ASSERT_TRUE((*store)->Ingest(second).ok());
  EXPECT_THAT(Holders(**store, "one.example"), IsEmpty());
  EXPECT_THAT(Holders(**store, "two.example"), ElementsAre("b"));
  EXPECT_THAT(Holders(**store, "three.example"), UnorderedElementsAre("a", "b"));
  // Twice in one call: only the later one's values count.
  std::vector<Incident> third = {Domains("c", {"four.example"}), Domains("c", {"five.example"})};
  ASSERT_TRUE((*store)->Ingest(third).ok());
  EXPECT_THAT(Holders(**store, "four.example"), IsEmpty());
  EXPECT_THAT(Holders(**store, "five.example"), ElementsAre("c"));
  // A stored incident ("c", the largest rowid) twice in one call: its first replacement is of
  // this call even if it took the stored one's rowid, so the second one drops its values.
  std::vector<Incident> fourth = {Domains("c", {"six.example"}), Domains("c", {"seven.example"})};
  auto sum = (*store)->Ingest(fourth);
  ASSERT_TRUE(sum.ok()) << sum.status();
  EXPECT_THAT(Holders(**store, "five.example"), IsEmpty());
  EXPECT_THAT(Holders(**store, "six.example"), IsEmpty());
  EXPECT_THAT(Holders(**store, "seven.example"), ElementsAre("c"));
  EXPECT_THAT(sum->write.leaving, ElementsAre("c"));
}

// Many incidents leaving the same values in one call (a feed pulled again with changes, a large
// removal): each value's segments are rewritten once for all of them, across segments written by
// several calls, and a value is deleted by Remove only when its last holder goes.
TEST(Store, ManyIncidentsLeaveSharedValuesInOneCall) {
  auto store = Store::Open(FreshPath("leave-many.db"));
  ASSERT_TRUE(store.ok());
  auto make = [](int i, bool common) {
    std::vector<std::string> d = {absl::StrCat("own-", i, ".example")};
    if (common) d.push_back("common.example");
    if (i % 3 == 0) d.push_back("third.example");
    return Domains(absl::StrCat("e", i), d);
  };
  std::vector<std::string> all, odd, thirds;
  for (int i = 0; i < 60; ++i) {
    std::vector<Incident> one = {make(i, true)};  // one call each: 60 segments of common.example
    ASSERT_TRUE((*store)->Ingest(one).ok());
    all.push_back(absl::StrCat("e", i));
    if (i % 2 == 1) odd.push_back(all.back());
    if (i % 3 == 0) thirds.push_back(all.back());
  }
  std::sort(all.begin(), all.end());
  EXPECT_THAT(Holders(**store, "common.example"), UnorderedElementsAreArray(all));
  // The even ones replaced in one call, without common.example.
  std::vector<Incident> again;
  for (int i = 0; i < 60; i += 2) again.push_back(make(i, false));
  auto sum = (*store)->Ingest(again);
  ASSERT_TRUE(sum.ok()) << sum.status();
  EXPECT_EQ(sum->incidents_updated, 30u);
  EXPECT_THAT(Holders(**store, "common.example"), UnorderedElementsAreArray(odd));
  EXPECT_THAT(Holders(**store, "third.example"), UnorderedElementsAreArray(thirds));
  EXPECT_THAT(Holders(**store, "own-4.example"), ElementsAre("e4"));
  // Every odd one removed but e59: common.example stays, held by e59 alone.
  std::vector<std::string> going(odd.begin(), odd.end() - 1);
  auto removed = (*store)->Remove(going);
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_EQ(removed->values_deleted, going.size());  // their own-N.example values only
  EXPECT_THAT(Holders(**store, "common.example"), ElementsAre("e59"));
  removed = (*store)->Remove({"e59"});
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_EQ(removed->values_deleted, 2u);  // own-59.example and common.example
  EXPECT_THAT(Holders(**store, "common.example"), IsEmpty());
  std::erase_if(thirds, [](const std::string& id) { return (id.back() - '0') % 2 == 1; });
  EXPECT_THAT(Holders(**store, "third.example"), UnorderedElementsAreArray(thirds));
}

// What SQLite's own checks find wrong with the file: every row `PRAGMA foreign_key_check` and
// `PRAGMA integrity_check` give, "ok" left out (empty when the file is sound).
std::vector<std::string> SqliteChecks(const std::string& path) {
  sqlite3* db = nullptr;
  std::vector<std::string> rows;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) return {"cannot open"};
  auto collect = [](void* out, int n, char** values, char**) {
    std::string row;
    for (int i = 0; i < n; ++i) absl::StrAppend(&row, i ? "|" : "", values[i] ? values[i] : "");
    if (row != "ok") static_cast<std::vector<std::string>*>(out)->push_back(row);
    return 0;
  };
  for (const char* check : {"PRAGMA foreign_key_check", "PRAGMA integrity_check"}) {
    if (sqlite3_exec(db, check, collect, &rows, nullptr) != SQLITE_OK) rows.push_back(check);
  }
  sqlite3_close(db);
  return rows;
}

// Removing incidents leaves the store as if they had never been ingested: the same incidents,
// indicator rows, values and holders as a store that was given only the others.
TEST(Store, RemoveLeavesTheStoreAsIfTheyHadNeverBeenIngested) {
  const std::string path = FreshPath("remove.db");
  Incident a = Domains("a", {"one.example", "two.example"});
  a.title = "secret-title-of-a";
  std::vector<Incident> all = {a, Domains("b", {"two.example", "three.example"}),
                               Domains("c", {"three.example", "four.example"})};
  auto store = Store::Open(path);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Ingest(all).ok());
  auto removed = (*store)->Remove({"c", "a", "a"});
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_EQ(removed->removed, 2u);
  EXPECT_EQ(removed->indicators, 4u);
  // one.example and four.example: no other incident holds them.
  EXPECT_EQ(removed->values_deleted, 2u);
  EXPECT_NE(removed->write.key_after, removed->write.key_before);
  EXPECT_EQ(absl::StatusOr<std::string>(removed->write.key_after), (*store)->SnapshotKey());

  auto only_b = Store::Open(FreshPath("remove-only-b.db"));
  ASSERT_TRUE(only_b.ok());
  std::vector<Incident> b = {Domains("b", {"two.example", "three.example"})};
  ASSERT_TRUE((*only_b)->Ingest(b).ok());
  auto got = (*store)->Stats();
  auto want = (*only_b)->Stats();
  ASSERT_TRUE(got.ok() && want.ok());
  EXPECT_EQ(got->incidents, want->incidents);
  EXPECT_EQ(got->indicators, want->indicators);
  EXPECT_EQ(got->distinct_values, want->distinct_values);
  for (const char* d : {"one.example", "two.example", "three.example", "four.example"}) {
    EXPECT_EQ(Holders(**store, d), Holders(**only_b, d)) << d;
  }
  EXPECT_THAT(SqliteChecks(path), IsEmpty());
  EXPECT_EQ((*store)->GetIncident("a").status().code(), absl::StatusCode::kNotFound);
  auto kept = (*store)->GetIncident("b");
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->indicators.size(), 2u);
  EXPECT_EQ(kept->attributions.size(), 1u);
  // Re-ingesting a removed incident brings it back whole.
  std::vector<Incident> again = {all[0]};
  ASSERT_TRUE((*store)->Ingest(again).ok());
  EXPECT_THAT(Holders(**store, "two.example"), UnorderedElementsAre("a", "b"));
  EXPECT_THAT(Holders(**store, "one.example"), ElementsAre("a"));
  // two.example is now held in two segments (two ingest calls): removing "b" leaves it to "a";
  // three.example, which only "b" held, goes.
  auto b_gone = (*store)->Remove({"b"});
  ASSERT_TRUE(b_gone.ok()) << b_gone.status();
  EXPECT_EQ(b_gone->values_deleted, 1u);
  EXPECT_THAT(Holders(**store, "two.example"), ElementsAre("a"));
  auto a_gone = (*store)->Remove({"a"});
  ASSERT_TRUE(a_gone.ok()) << a_gone.status();
  EXPECT_EQ(a_gone->values_deleted, 2u);
  auto empty = (*store)->Stats();
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->incidents, 0u);
  EXPECT_EQ(empty->indicators, 0u);
  EXPECT_EQ(empty->distinct_values, 0u);
  // Removal runs with foreign keys off (as ingest does): it must leave no dangling row.
  EXPECT_THAT(SqliteChecks(path), IsEmpty());
}

// What was removed is gone from the file, not left in free pages (secure_delete, on by default
// in Debian's SQLite) nor as values no incident holds: a report that may not be kept can be
// taken out.
TEST(Store, RemovedTextIsNotLeftInTheFile) {
  const std::string path = FreshPath("remove-secure.db");
  {
    auto store = Store::Open(path);
    ASSERT_TRUE(store.ok());
    Incident secret = Domains("secret", {"tlp-red-only.example"});
    secret.title = "TLP-RED-TITLE-XYZZY";
    std::vector<Incident> batch = {Domains("kept", {"kept.example"}), secret};
    ASSERT_TRUE((*store)->Ingest(batch).ok());
  }
  ASSERT_NE(FileBytes(path).find("TLP-RED-TITLE-XYZZY"), std::string::npos);
  {
    auto store = Store::Open(path);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->Remove({"secret"}).ok());
  }
  const std::string bytes = FileBytes(path) + FileBytes(path + "-wal");
  EXPECT_EQ(bytes.find("TLP-RED-TITLE-XYZZY"), std::string::npos);
  EXPECT_EQ(bytes.find("tlp-red-only.example"), std::string::npos);
  EXPECT_NE(bytes.find("kept.example"), std::string::npos);
}

// An id the store does not hold removes nothing, the ids before it included.
TEST(Store, RemovingAnUnknownIdRemovesNothing) {
  const std::string path = FreshPath("remove-unknown.db");
  {
    auto store = Store::Open(path);
    ASSERT_TRUE(store.ok());
    std::vector<Incident> batch = {Domains("a", {"one.example"}), Domains("b", {"two.example"})};
    ASSERT_TRUE((*store)->Ingest(batch).ok());
  }
  const std::string before = FileBytes(path);
  {
    auto store = Store::Open(path);
    ASSERT_TRUE(store.ok());
    auto removed = (*store)->Remove({"a", "no-such-incident"});
    EXPECT_EQ(removed.status().code(), absl::StatusCode::kNotFound);
    EXPECT_THAT(std::string(removed.status().message()), ::testing::HasSubstr("no-such-incident"));
    EXPECT_THAT(Holders(**store, "one.example"), ElementsAre("a"));
  }
  EXPECT_EQ(FileBytes(path), before);
}

// What is stored inside a network: addresses in any role and networks stated inside it, in
// address order; neither a network derived from an address, nor the network itself, nor a wider
// one. The IPv4 ranges cut at octets: a /12 reads its sixteen second octets, 10.16. to 10.31.
std::vector<std::string> Inside(Store& store, const std::string& cidr, size_t limit = 100,
                                bool* truncated = nullptr) {
  auto in = store.ValuesInside(cidr, limit);
  EXPECT_TRUE(in.ok()) << in.status();
  if (!in.ok()) return {"error"};
  if (truncated != nullptr) *truncated = in->truncated;
  std::vector<std::string> out;
  for (const Store::ValueInside& v : in->values) {
    out.push_back(absl::StrCat(v.value, "=", absl::StrJoin(v.holders.incident_ids, "+")));
  }
  return out;
}

TEST(Store, ValuesInsideANetwork) {
  auto store = Store::Open(FreshPath("inside.db"));
  ASSERT_TRUE(store.ok());
  Incident a = Sample("a");
  a.indicators.clear();
  for (const char* ip : {"10.1.2.3", "10.1.200.9", "10.2.0.1", "9.255.255.255", "10.31.0.1",
                         "10.32.0.1", "10.15.255.255"}) {
    a.indicators.push_back(Valid(IndicatorType::kIpv4, ip));
  }
  a.indicators.push_back(Valid(IndicatorType::kCidr, "10.1.0.0/20"));
  a.indicators.push_back(Derived(IndicatorType::kCidr, "10.1.2.0/24", Derivation::kNetwork));
  a.indicators.push_back(Valid(IndicatorType::kIpv6, "2001:db8::5"));
  a.indicators.push_back(Valid(IndicatorType::kIpv6, "::1"));
  Incident b = Sample("b");
  b.indicators = {Valid(IndicatorType::kIpv4, "10.1.2.3"),
                  Valid(IndicatorType::kCidr, "10.0.0.0/8"),
                  Valid(IndicatorType::kCidr, "2001:db8:1::/48")};
  std::vector<Incident> batch = {a, b};
  ASSERT_TRUE((*store)->Ingest(batch).ok());

  EXPECT_THAT(Inside(**store, "10.1.0.0/16"),
              ElementsAre("10.1.0.0/20=a", "10.1.2.3=a+b", "10.1.200.9=a"));
  EXPECT_THAT(Inside(**store, "10.1.0.0/20"), ElementsAre("10.1.2.3=a+b"));
  EXPECT_THAT(Inside(**store, "10.16.0.0/12"), ElementsAre("10.31.0.1=a"));
  EXPECT_THAT(Inside(**store, "10.1.2.3/32"), IsEmpty());
  EXPECT_THAT(
      Inside(**store, "0.0.0.0/0"),
      ElementsAre("9.255.255.255=a", "10.0.0.0/8=b", "10.1.0.0/20=a", "10.1.2.3=a+b",
                  "10.1.200.9=a", "10.2.0.1=a", "10.15.255.255=a", "10.31.0.1=a", "10.32.0.1=a"));
  EXPECT_THAT(Inside(**store, "2001:db8::/32"), ElementsAre("2001:db8::5=a", "2001:db8:1::/48=b"));
  EXPECT_THAT(Inside(**store, "::/0"), ElementsAre("::1=a", "2001:db8::5=a", "2001:db8:1::/48=b"));
  bool truncated = false;
  // Over the limit, the first values in the index's order are kept (addresses before networks).
  EXPECT_THAT(Inside(**store, "10.0.0.0/8", 2, &truncated),
              ElementsAre("10.1.2.3=a+b", "10.1.200.9=a"));
  EXPECT_TRUE(truncated);
  EXPECT_THAT(Inside(**store, "10.0.0.0/8", 100, &truncated), ::testing::SizeIs(7));
  EXPECT_FALSE(truncated);
  EXPECT_EQ((*store)->ValuesInside("not a network", 10).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ValueIncidents, VarintGapsRoundTripAndRejectTruncation) {
  const std::vector<int64_t> ids = {1, 2, 127, 128, 300, 16384, 1LL << 40, (1LL << 62) + 5};
  std::string bytes;
  store::EncodeAscending(ids, &bytes);
  EXPECT_EQ(bytes.substr(0, 3), std::string("\x01\x01\x7d", 3));  // gaps 1, 1, 125
  std::vector<int64_t> back;
  ASSERT_TRUE(store::DecodeAscending(bytes, &back).ok());
  EXPECT_EQ(back, ids);
  back.clear();
  EXPECT_EQ(store::DecodeAscending(bytes.substr(0, bytes.size() - 1), &back).code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(store::DecodeAscending(std::string(11, '\xff'), &back).code(),
            absl::StatusCode::kDataLoss);
}

// IngestBatches: batches written in order in one transaction; the store never reads a batch again
// once it asks for the next (the source frees it: ASan would catch a late read); values shared
// across batches are correlated; an error from the source rolls the whole call back.
TEST(Store, IngestBatchesStreamsFreesAndRollsBack) {
  std::string path = FreshPath("stream.db");
  {
    auto store = Store::Open(path);
    ASSERT_TRUE(store.ok());
    std::unique_ptr<std::vector<Incident>> current;
    int handed = 0;
    auto sum = (*store)->IngestBatches([&]() -> absl::StatusOr<std::span<Incident>> {
      current.reset();  // the store is done with the previous batch
      if (handed == 6) return std::span<Incident>();
      current = std::make_unique<std::vector<Incident>>();
      // 25,000 rows a batch; values shared across batches.
      current->push_back(Big(absl::StrCat("s-", handed), 25000, 10000 * handed));
      ++handed;
      return std::span<Incident>(*current);
    });
    ASSERT_TRUE(sum.ok()) << sum.status();
    EXPECT_EQ(sum->incidents_added, 6u);
    EXPECT_EQ(sum->indicators, 150000u);
    auto got = (*store)->GetIncident("s-5");
    ASSERT_TRUE(got.ok());
    ASSERT_EQ(got->indicators.size(), 25000u);
    EXPECT_EQ(got->indicators[0].value, "h0.example.org");  // (0 + 50000) % 50000
    // h45000: i = 45000 - 10000 k in batch k, for k = 3 and 4 (0 <= i < 25000).
    auto holders = (*store)->IncidentsWithValue(IndicatorType::kDomain, "h45000.example.org");
    ASSERT_TRUE(holders.ok()) << holders.status();
    EXPECT_THAT(holders->incident_ids, ElementsAre("s-3", "s-4"));
  }
  const std::string before = FileBytes(path);
  {
    auto store = Store::Open(path);
    ASSERT_TRUE(store.ok());
    std::vector<Incident> first = {Big("late-1", 200000, 3)};
    int calls = 0;
    auto sum = (*store)->IngestBatches([&]() -> absl::StatusOr<std::span<Incident>> {
      if (calls++ == 0) return std::span<Incident>(first);
      return absl::InvalidArgumentError("feed/2.json: not valid JSON");
    });
    EXPECT_EQ(sum.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(sum.status().message(), "feed/2.json: not valid JSON");
  }
  EXPECT_EQ(FileBytes(path), before);
}

TEST(Store, ForEachIncidentStreamsInInsertionOrderAndStopsEarly) {
  auto store = Store::Open(FreshPath("foreach.db"));
  ASSERT_TRUE(store.ok());
  std::vector<Incident> batch = {Sample("b"), Sample("a"), Sample("c")};
  ASSERT_TRUE((*store)->Ingest(batch).ok());
  std::vector<std::string> seen;
  ASSERT_TRUE((*store)
                  ->ForEachIncident([&](const Incident& inc) {
                    seen.push_back(inc.id);
                    EXPECT_EQ(inc.indicators.size(), 3u);
                    return seen.size() < 2;
                  })
                  .ok());
  EXPECT_THAT(seen, ElementsAre("b", "a"));
}

TEST(Store, AttributedScanReadsOnlyIncidentsWithAStatedActorInOrder) {
  auto store = Store::Open(FreshPath("foreach_attributed.db"));
  ASSERT_TRUE(store.ok());
  std::vector<Incident> batch = {Sample("b"), Sample("a"), Sample("c"), Sample("d")};
  batch[0].attributions.push_back({"APT29", "G0016", 50, "STIX"});  // two rows: read once
  batch[1].attributions.clear();
  batch[3].attributions.clear();
  ASSERT_TRUE((*store)->Ingest(batch).ok());
  auto scan = [&](Store::Detail detail, size_t skip, bool ahead) {
    std::vector<std::string> seen;
    auto fn = [&](Incident& inc) {
      seen.push_back(absl::StrCat(inc.id, ":", inc.attributions.size()));
      return true;
    };
    absl::Status st =
        ahead ? (*store)->ForEachIncidentReadAhead(fn, 2, detail, skip, Store::Which::kAttributed)
              : (*store)->ForEachIncident(fn, detail, skip, Store::Which::kAttributed);
    EXPECT_TRUE(st.ok()) << st;
    return seen;
  };
  EXPECT_THAT(scan(Store::Detail::kFull, 0, false), ElementsAre("b:2", "c:1"));
  EXPECT_THAT(scan(Store::Detail::kStyle, 0, true), ElementsAre("b:2", "c:1"));
  EXPECT_THAT(scan(Store::Detail::kStyle, 1, true), ElementsAre("c:1"));  // skip counts these
  // Replacing an incident moves it last, with or without its attribution.
  std::vector<Incident> again = {Sample("b")};
  ASSERT_TRUE((*store)->Ingest(again).ok());
  EXPECT_THAT(scan(Store::Detail::kStyle, 0, false), ElementsAre("c:1", "b:1"));
  again = {Sample("c")};
  again[0].attributions.clear();
  ASSERT_TRUE((*store)->Ingest(again).ok());
  EXPECT_THAT(scan(Store::Detail::kStyle, 0, false), ElementsAre("b:1"));
}

TEST(Store, AnalysisScanReadsWhatScoringNeedsAndLeavesTheProseOut) {
  auto store = Store::Open(FreshPath("analysis_scan.db"));
  ASSERT_TRUE(store.ok());
  Incident sample = Sample("a");
  sample.description = "A long report text.";
  sample.indicators[0].location = "Event.Attribute[0]";
  sample.indicators[0].snippet = "C2 at 176.31.112[.]10";
  sample.indicators[0].category = "Network activity";
  sample.techniques[0].location = "Event.Galaxy[1]";
  std::vector<Incident> batch = {sample};
  ASSERT_TRUE((*store)->Ingest(batch).ok());
  std::vector<Incident> full, analysis;
  ASSERT_TRUE((*store)
                  ->ForEachIncident([&](Incident& inc) {
                    full.push_back(std::move(inc));
                    return true;
                  })
                  .ok());
  ASSERT_TRUE((*store)
                  ->ForEachIncidentReadAhead(
                      [&](Incident& inc) {
                        analysis.push_back(std::move(inc));
                        return true;
                      },
                      /*ahead=*/4, Store::Detail::kAnalysis)
                  .ok());
  ASSERT_EQ(full.size(), 1u);
  ASSERT_EQ(analysis.size(), 1u);
  const Incident& f = full[0];
  const Incident& a = analysis[0];
  // What scoring and attribution read is the same.
  EXPECT_EQ(a.id, f.id);
  EXPECT_EQ(a.title, f.title);
  EXPECT_EQ(a.first_seen, f.first_seen);
  EXPECT_EQ(a.victim.sector, f.victim.sector);
  EXPECT_EQ(a.victim.country, f.victim.country);
  ASSERT_EQ(a.indicators.size(), f.indicators.size());
  for (size_t i = 0; i < a.indicators.size(); ++i) {
    EXPECT_EQ(a.indicators[i].type, f.indicators[i].type);
    EXPECT_EQ(a.indicators[i].value, f.indicators[i].value);
    EXPECT_EQ(a.indicators[i].derivation, f.indicators[i].derivation);
    EXPECT_EQ(a.indicators[i].valid(), f.indicators[i].valid());
    EXPECT_EQ(a.indicators[i].warninglists, f.indicators[i].warninglists);
  }
  ASSERT_EQ(a.techniques.size(), 1u);
  EXPECT_EQ(a.techniques[0].id, "T1566.002");
  ASSERT_EQ(a.software.size(), 1u);
  EXPECT_EQ(a.software[0].id, "S0161");
  ASSERT_EQ(a.attributions.size(), 1u);
  EXPECT_EQ(a.attributions[0].actor_id, "G0007");
  // The prose is left out; the full scan has it.
  EXPECT_EQ(f.description, "A long report text.");
  EXPECT_EQ(a.description, "");
  EXPECT_EQ(f.indicators[0].snippet, "C2 at 176.31.112[.]10");
  EXPECT_EQ(f.indicators[0].raw, "176.31.112[.]10");
  EXPECT_EQ(a.indicators[0].snippet, "");
  EXPECT_EQ(a.indicators[0].location, "");
  EXPECT_EQ(a.indicators[0].category, "");
  EXPECT_EQ(a.indicators[0].raw, "");
  EXPECT_EQ(f.techniques[0].location, "Event.Galaxy[1]");
  EXPECT_EQ(a.techniques[0].location, "");
}

TEST(Store, NamingDetailReadsTheStatedNamesAndNothingElse) {
  auto store = Store::Open(FreshPath("naming_detail.db"));
  ASSERT_TRUE(store.ok());
  Incident inc = Sample("a");
  inc.indicators.push_back(Valid(IndicatorType::kDomain, "update-adobe.org"));
  inc.indicators.push_back(
      Derived(IndicatorType::kDomain, "adobe.org", Derivation::kRegisteredDomain));
  inc.indicators.push_back(Valid(IndicatorType::kSha256, std::string(64, 'a')));
  inc.indicators.push_back(Valid(IndicatorType::kUrl, "http://update-adobe.org/flash/install.php"));
  inc.indicators.push_back(
      Derived(IndicatorType::kDomain, "update-adobe.org", Derivation::kUrlHost));
  inc.indicators.push_back(Valid(IndicatorType::kDomain, "microsoft.com"));
  inc.indicators.push_back(Valid(IndicatorType::kFilename, "flashplayer_update.exe"));
  std::vector<Incident> batch = {inc};
  ASSERT_TRUE((*store)->Ingest(batch).ok());
  Warninglist top;
  top.name = "top-domains";
  top.type = "hostname";
  top.matching_attributes = {"domain", "hostname"};
  top.entries = {"microsoft.com"};
  ASSERT_TRUE((*store)->ReplaceWarninglists({top}).ok());

  auto full = (*store)->GetIncident("a");
  auto naming = (*store)->GetIncident("a", Store::Detail::kNaming);
  ASSERT_TRUE(full.ok() && naming.ok());
  // The stated domains, URLs and file names of the full read, in its order, marks included.
  std::vector<std::string> expected, got;
  for (const Indicator& i : full->indicators) {
    const bool named = i.type == IndicatorType::kDomain || i.type == IndicatorType::kUrl ||
                       i.type == IndicatorType::kFilename;
    if (named && i.derivation == Derivation::kNone) {
      expected.push_back(absl::StrCat(i.value, "|", absl::StrJoin(i.warninglists, ",")));
    }
  }
  for (const Indicator& i : naming->indicators) {
    got.push_back(absl::StrCat(i.value, "|", absl::StrJoin(i.warninglists, ",")));
  }
  EXPECT_THAT(
      got, ::testing::ElementsAre("update-adobe.org|", "http://update-adobe.org/flash/install.php|",
                                  "microsoft.com|top-domains", "flashplayer_update.exe|"));
  EXPECT_EQ(got, expected);
  EXPECT_EQ(naming->id, "a");
  EXPECT_TRUE(naming->techniques.empty());
  EXPECT_TRUE(naming->software.empty());
  EXPECT_TRUE(naming->attributions.empty());
  // kStyle: the same indicators and the domains of URL hosts (not registered domains), in the
  // full read's order, and of the children the attributions only.
  auto style = (*store)->GetIncident("a", Store::Detail::kStyle);
  ASSERT_TRUE(style.ok()) << style.status();
  std::vector<std::string> style_values;
  for (const Indicator& i : style->indicators) {
    style_values.push_back(i.value + "|" + std::string(DerivationName(i.derivation)));
  }
  EXPECT_THAT(style_values, ::testing::ElementsAre("update-adobe.org|",
                                                   "http://update-adobe.org/flash/install.php|",
                                                   "update-adobe.org|url-host", "microsoft.com|",
                                                   "flashplayer_update.exe|"));
  EXPECT_EQ(style->indicators[3].warninglists, std::vector<std::string>{"top-domains"});
  ASSERT_EQ(style->attributions.size(), 1u);
  EXPECT_EQ(style->attributions[0].actor_id, "G0007");
  EXPECT_TRUE(style->techniques.empty());
  EXPECT_TRUE(style->software.empty());
  // The other details still read everything, also after the naming statements were prepared.
  auto analysis = (*store)->GetIncident("a", Store::Detail::kAnalysis);
  ASSERT_TRUE(analysis.ok());
  EXPECT_EQ(analysis->indicators.size(), full->indicators.size());
  EXPECT_EQ(analysis->techniques.size(), 1u);
  // What the server keeps in memory (cli NamingCache) is packed from the incidents indexing
  // streams (kAnalysis); it must name what a kNaming read names: the same values, the
  // warninglisted one left out.
  std::string streamed;
  ASSERT_TRUE((*store)
                  ->ForEachIncidentReadAhead(
                      [&](Incident& i) {
                        streamed = score::NamingTexts(i).Pack();
                        return true;
                      },
                      4, Store::Detail::kAnalysis)
                  .ok());
  EXPECT_EQ(streamed, score::NamingTexts(*naming).Pack());
  auto unpacked = score::NamingTexts::Unpack(streamed);
  ASSERT_TRUE(unpacked.has_value());
  EXPECT_THAT(unpacked->Sources("ng:adob", 10), ::testing::ElementsAre("update-adobe.org"));
  EXPECT_THAT(unpacked->Sources("tld:com", 10), ::testing::IsEmpty());  // microsoft.com: benign
  EXPECT_THAT(unpacked->Sources("ng:flash", 10),
              ::testing::ElementsAre("http://update-adobe.org/flash/install.php",
                                     "flashplayer_update.exe"));
}

TEST(Store, GetIncidentReusesItsStatementsWithoutHoldingTheStore) {
  const std::string path = FreshPath("get_cached.db");
  auto store = Store::Open(path);
  ASSERT_TRUE(store.ok());
  Incident a = Sample("a");
  a.description = "Report text.";
  std::vector<Incident> batch = {a, Sample("b")};
  ASSERT_TRUE((*store)->Ingest(batch).ok());
  for (int round = 0; round < 2; ++round) {
    auto got = (*store)->GetIncident("a");
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(got->description, "Report text.");
    EXPECT_EQ(got->indicators.size(), 3u);
    EXPECT_EQ((*store)->GetIncident("missing").status().code(), absl::StatusCode::kNotFound);
    auto light = (*store)->GetIncident("a", Store::Detail::kAnalysis);
    ASSERT_TRUE(light.ok());
    EXPECT_EQ(light->description, "");
    EXPECT_EQ(light->indicators.size(), 3u);
    EXPECT_EQ(light->indicators[0].value, got->indicators[0].value);
    EXPECT_EQ(light->indicators[0].raw, "");
    auto b = (*store)->GetIncident("b");
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(b->id, "b");
  }
  // No statement is left mid-step: another connection can write, and this one sees it.
  {
    auto other = Store::Open(path, /*create=*/false);
    ASSERT_TRUE(other.ok());
    std::vector<Incident> more = {Sample("c")};
    ASSERT_TRUE((*other)->Ingest(more).ok());
  }
  auto c = (*store)->GetIncident("c");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->indicators.size(), 3u);
}

TEST(Store, ForEachIncidentReadAheadGivesTheSameIncidentsInOrderAndStopsEarly) {
  setenv("KINSHIP_THREADS", "2", 1);  // the threaded path, also on a one-core machine
  auto store = Store::Open(FreshPath("readahead.db"));
  ASSERT_TRUE(store.ok());
  std::vector<Incident> batch;
  for (int i = 0; i < 200; ++i) batch.push_back(Sample("inc-" + std::to_string(i)));
  ASSERT_TRUE((*store)->Ingest(batch).ok());
  std::vector<std::string> plain, ahead;
  ASSERT_TRUE((*store)
                  ->ForEachIncident([&](const Incident& inc) {
                    plain.push_back(inc.id);
                    return true;
                  })
                  .ok());
  ASSERT_TRUE((*store)
                  ->ForEachIncidentReadAhead(
                      [&](const Incident& inc) {
                        ahead.push_back(inc.id);
                        EXPECT_EQ(inc.indicators.size(), 3u);
                        return true;
                      },
                      /*ahead=*/4)
                  .ok());
  EXPECT_EQ(ahead, plain);
  EXPECT_EQ(ahead.size(), 200u);
  // Stopping early: nothing after the stop is taken, and the store is usable again after.
  std::vector<std::string> first;
  ASSERT_TRUE((*store)
                  ->ForEachIncidentReadAhead([&](Incident& inc) {
                    first.push_back(std::move(inc.id));
                    return first.size() < 3;
                  })
                  .ok());
  EXPECT_THAT(first, ElementsAre("inc-0", "inc-1", "inc-2"));
  EXPECT_TRUE((*store)->GetIncident("inc-199").ok());
  unsetenv("KINSHIP_THREADS");
}

TEST(Store, SharedValuesAreStoredOnce) {
  auto store = Store::Open(FreshPath("values.db"));
  ASSERT_TRUE(store.ok());
  std::vector<Incident> batch = {Sample("x"), Sample("y")};
  ASSERT_TRUE((*store)->Ingest(batch).ok());
  auto stats = (*store)->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->indicators, 6u);
  EXPECT_EQ(stats->distinct_values, 2u);  // the IP and its /24; the invalid value is not a value
}

TEST(Store, WarninglistsRoundTrip) {
  auto store = Store::Open(FreshPath("wl.db"));
  ASSERT_TRUE(store.ok());
  Warninglist w;
  w.name = "test-list";
  w.title = "Test";
  w.type = "string";
  w.version = 3;
  w.matching_attributes = {"ip-dst", "ip-src"};
  w.entries = {"9.9.9.9", "1.1.1.1"};
  ASSERT_TRUE((*store)->ReplaceWarninglists({w}).ok());
  auto lists = (*store)->Warninglists();
  ASSERT_TRUE(lists.ok());
  ASSERT_EQ(lists->size(), 1u);
  EXPECT_EQ((*lists)[0].version, 3);
  EXPECT_THAT((*lists)[0].entries, ElementsAre("9.9.9.9", "1.1.1.1"));
  EXPECT_THAT((*lists)[0].matching_attributes, ElementsAre("ip-dst", "ip-src"));
}

// What index snapshots are keyed by: every write transaction (ingest, warninglists; the KB's
// import in tests/cases/snapshot.test) changes the key, reads and failed writes do not, and two
// stores never share one.
TEST(Store, SnapshotKeyChangesWithEveryWriteAndOnlyThen) {
  const std::string path = FreshPath("key.db");
  auto store = Store::Open(path);
  ASSERT_TRUE(store.ok());
  absl::StatusOr<std::string> k0 = (*store)->SnapshotKey();
  ASSERT_TRUE(k0.ok()) << k0.status();
  std::vector<Incident> batch = {Sample("evt-1")};
  ASSERT_TRUE((*store)->Ingest(batch).ok());
  const std::string k1 = *(*store)->SnapshotKey();
  EXPECT_NE(k1, *k0);
  ASSERT_TRUE((*store)->GetIncident("evt-1").ok());
  ASSERT_TRUE((*store)->ListIncidents().ok());
  EXPECT_EQ(*(*store)->SnapshotKey(), k1);
  std::vector<Incident> bad = {Sample("evt-2"), Sample("")};
  EXPECT_FALSE((*store)->Ingest(bad).ok());
  EXPECT_EQ(*(*store)->SnapshotKey(), k1);
  Warninglist w;
  w.name = "test-list";
  w.type = "string";
  w.entries = {"9.9.9.9"};
  ASSERT_TRUE((*store)->ReplaceWarninglists({w}).ok());
  const std::string k2 = *(*store)->SnapshotKey();
  EXPECT_NE(k2, k1);
  // Re-ingesting the same incident is a write too (it replaces it).
  batch = {Sample("evt-1")};
  ASSERT_TRUE((*store)->Ingest(batch).ok());
  const std::string k3 = *(*store)->SnapshotKey();
  EXPECT_NE(k3, k2);
  store->reset();
  // Another connection to the file sees the same key; another store has its own.
  auto again = Store::Open(path, /*create=*/false);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*(*again)->SnapshotKey(), k3);
  auto other = Store::Open(FreshPath("key2.db"));
  ASSERT_TRUE(other.ok());
  batch = {Sample("evt-1")};
  ASSERT_TRUE((*other)->Ingest(batch).ok());
  EXPECT_NE(*(*other)->SnapshotKey(), k1);
}

// What `kinship ingest` needs to grow an index snapshot: the keys before and after the call (the
// one its commit makes), how many incidents were stored before, and whether it replaced any of
// those; and a scan that leaves out the first N incidents.
TEST(Store, IngestStatesTheKeysAroundItAndWhatItReplaced) {
  auto store = Store::Open(FreshPath("grow.db"));
  ASSERT_TRUE(store.ok());
  std::vector<Incident> batch = {Sample("evt-1"), Sample("evt-2")};
  const std::string k0 = *(*store)->SnapshotKey();
  absl::StatusOr<IngestSummary> s = (*store)->Ingest(batch);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->write.key_before, k0);
  EXPECT_EQ(s->write.key_after, *(*store)->SnapshotKey());
  EXPECT_NE(s->write.key_after, k0);
  EXPECT_EQ(s->write.incidents_before, 0u);
  EXPECT_EQ(s->write.leaving.size(), 0u);

  // New incidents, one of them twice in the call: replaced within the call, nothing stored
  // before is replaced, and a scan from the third incident on reads this call's, in order.
  batch = {Sample("evt-3"), Sample("evt-4"), Sample("evt-3")};
  const std::string k1 = *(*store)->SnapshotKey();
  s = (*store)->Ingest(batch);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->write.key_before, k1);
  EXPECT_EQ(s->write.key_after, *(*store)->SnapshotKey());
  EXPECT_EQ(s->write.incidents_before, 2u);
  EXPECT_EQ(s->incidents_added, 2u);
  EXPECT_EQ(s->incidents_updated, 1u);
  EXPECT_EQ(s->write.leaving.size(), 0u);
  std::vector<std::string> ids;
  ASSERT_TRUE((*store)
                  ->ForEachIncident(
                      [&](Incident& inc) {
                        ids.push_back(inc.id);
                        return true;
                      },
                      Store::Detail::kAnalysis, /*skip=*/2)
                  .ok());
  EXPECT_THAT(ids, ::testing::ElementsAre("evt-4", "evt-3"));
  ids.clear();
  ASSERT_TRUE((*store)
                  ->ForEachIncidentReadAhead(
                      [&](Incident& inc) {
                        ids.push_back(inc.id);
                        return true;
                      },
                      /*ahead=*/1, Store::Detail::kAnalysis, /*skip=*/3)
                  .ok());
  EXPECT_THAT(ids, ::testing::ElementsAre("evt-3"));

  // Replacing a stored incident moves it to the end: counted.
  batch = {Sample("evt-1"), Sample("evt-5")};
  s = (*store)->Ingest(batch);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->write.incidents_before, 4u);
  EXPECT_EQ(s->write.leaving.size(), 1u);
  // A failed call states nothing and writes nothing.
  const std::string k2 = *(*store)->SnapshotKey();
  batch = {Sample("evt-6"), Sample("")};
  EXPECT_FALSE((*store)->Ingest(batch).ok());
  EXPECT_EQ(*(*store)->SnapshotKey(), k2);
}

// The journal of writes (Store::ChangesSince): from any key it still reaches, one StoreWrite that
// an index of the store at that key grows by into the store's index now; nothing when a write
// since was not an ingest or a removal, when it no longer reaches back, or for another store's
// key.
TEST(Store, JournalSaysWhatLeftSinceAKeyAcrossWrites) {
  const std::string path = FreshPath("journal.db");
  auto store = Store::Open(path);
  ASSERT_TRUE(store.ok());
  Store& st = **store;
  const std::string k0 = *st.SnapshotKey();
  absl::StatusOr<std::optional<StoreWrite>> c = st.ChangesSince(k0);
  ASSERT_TRUE(c.ok() && c->has_value()) << c.status();
  EXPECT_EQ((*c)->key_after, k0);
  EXPECT_THAT((*c)->leaving, IsEmpty());

  std::vector<Incident> batch = {Sample("a"), Sample("b"), Sample("c")};
  ASSERT_TRUE(st.Ingest(batch).ok());
  const std::string k1 = *st.SnapshotKey();
  batch = {Sample("b"), Sample("d")};  // b replaced, d new
  ASSERT_TRUE(st.Ingest(batch).ok());
  batch = {Sample("e")};
  ASSERT_TRUE(st.Ingest(batch).ok());
  ASSERT_TRUE(st.Remove({"a", "e"}).ok());  // e: stored after k1 and gone again
  batch = {Sample("b")};                    // b replaced a second time
  ASSERT_TRUE(st.Ingest(batch).ok());
  // A removal that fails removes nothing and journals nothing.
  EXPECT_FALSE(st.Remove({"c", "nope"}).ok());
  const std::string k2 = *st.SnapshotKey();

  c = st.ChangesSince(k1);
  ASSERT_TRUE(c.ok() && c->has_value()) << c.status();
  EXPECT_EQ((*c)->key_before, k1);
  EXPECT_EQ((*c)->key_after, k2);
  EXPECT_EQ((*c)->incidents_before, 3u);
  EXPECT_THAT((*c)->leaving, ElementsAre("b", "a", "e"));  // distinct, oldest write first
  // What an index of the store at k1 keeps is read first, then what came since.
  std::vector<std::string> ids;
  ASSERT_TRUE(st.ForEachIncident([&](Incident& inc) {
                  ids.push_back(inc.id);
                  return true;
                }).ok());
  EXPECT_THAT(ids, ElementsAre("c", "d", "b"));
  c = st.ChangesSince(k0);
  ASSERT_TRUE(c.ok() && c->has_value());
  EXPECT_EQ((*c)->incidents_before, 0u);
  c = st.ChangesSince(k2);
  ASSERT_TRUE(c.ok() && c->has_value());
  EXPECT_EQ((*c)->incidents_before, 3u);
  EXPECT_THAT((*c)->leaving, IsEmpty());
  c = st.ChangesSince("store 1 schema 7 generation 2");
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->has_value());

  // Another connection reads the same journal.
  {
    auto other = Store::Open(path, /*create=*/false);
    ASSERT_TRUE(other.ok());
    c = (*other)->ChangesSince(k1);
    ASSERT_TRUE(c.ok() && c->has_value());
    EXPECT_THAT((*c)->leaving, ElementsAre("b", "a", "e"));
  }

  // New warninglists change what is indexed: no index grows across them.
  Warninglist w;
  w.name = "test-list";
  w.type = "string";
  w.entries = {"9.9.9.9"};
  ASSERT_TRUE(st.ReplaceWarninglists({w}).ok());
  const std::string k3 = *st.SnapshotKey();
  c = st.ChangesSince(k2);
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->has_value());
  batch = {Sample("f")};
  ASSERT_TRUE(st.Ingest(batch).ok());
  c = st.ChangesSince(k3);
  ASSERT_TRUE(c.ok() && c->has_value());
  EXPECT_EQ((*c)->incidents_before, 3u);

  // It keeps the last 64 writes.
  std::vector<std::string> keys;
  for (int i = 0; i < 70; ++i) {
    keys.push_back(*st.SnapshotKey());
    batch = {Sample(absl::StrCat("g", i))};
    ASSERT_TRUE(st.Ingest(batch).ok());
  }
  c = st.ChangesSince(keys[5]);
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->has_value());
  c = st.ChangesSince(keys[6]);
  ASSERT_TRUE(c.ok() && c->has_value());
  EXPECT_EQ((*c)->incidents_before, 4u + 6u);
  EXPECT_THAT((*c)->leaving, IsEmpty());
}

// Store::IngestBatches of `incidents` as one batch, with `options`.
absl::StatusOr<IngestSummary> IngestWith(Store& st, std::vector<Incident> incidents,
                                         IngestOptions options) {
  bool given = false;
  return st.IngestBatches(
      [&]() -> absl::StatusOr<std::span<Incident>> {
        if (given) return std::span<Incident>();
        given = true;
        return std::span<Incident>(incidents);
      },
      options);
}

// A feed pulled again: with keep_unchanged, an incident stored by an earlier call from the same
// file bytes and format is left as stored, and a call that writes nothing commits nothing (the
// key stays, so snapshots stay current); changed bytes, another format, or the option off
// replace it as before.
TEST(Store, UnchangedIncidentsAreLeftAsStoredWhenAsked) {
  auto store = Store::Open(FreshPath("unchanged.db"));
  ASSERT_TRUE(store.ok());
  Store& st = **store;
  auto from = [](std::string id, std::string sha, std::string format = "misp") {
    Incident inc = Sample(std::move(id));
    inc.provenance = {"feed/" + inc.id + ".json", std::move(format), std::move(sha)};
    return inc;
  };
  std::vector<Incident> batch = {from("a", "s1"), from("b", "s2")};
  ASSERT_TRUE(st.Ingest(batch).ok());
  const std::string k1 = *st.SnapshotKey();
  const IngestOptions keep{.keep_unchanged = true};
  auto ingest = [&](std::vector<Incident> incidents, IngestOptions options) {
    return IngestWith(st, std::move(incidents), options);
  };
  absl::StatusOr<IngestSummary> s = ingest({from("a", "s1"), from("b", "s2")}, keep);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->incidents_unchanged, 2u);
  EXPECT_EQ(s->incidents_added + s->incidents_updated, 0u);
  EXPECT_EQ(*st.SnapshotKey(), k1);
  EXPECT_EQ(s->write.key_after, k1);
  absl::StatusOr<std::optional<StoreWrite>> c = st.ChangesSince(k1);
  ASSERT_TRUE(c.ok() && c->has_value());
  EXPECT_EQ((*c)->key_after, k1);

  // b changed upstream, c is new, a is read with another format: b and a replaced, c added.
  s = ingest({from("a", "s1", "stix"), from("b", "s2x"), from("c", "s3")}, keep);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->incidents_unchanged, 0u);
  EXPECT_EQ(s->incidents_updated, 2u);
  EXPECT_EQ(s->incidents_added, 1u);
  EXPECT_THAT(s->write.leaving, ElementsAre("a", "b"));
  EXPECT_EQ(st.GetIncident("b")->provenance.sha256, "s2x");

  // An incident given twice in one call is replaced by its later version, unchanged or not.
  s = ingest({from("d", "s4"), from("d", "s4")}, keep);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->incidents_added, 1u);
  EXPECT_EQ(s->incidents_updated, 1u);
  EXPECT_EQ(s->incidents_unchanged, 0u);

  // Without the option (the default; the KB import's re-linking) the same bytes replace.
  const std::string k2 = *st.SnapshotKey();
  s = ingest({from("c", "s3")}, IngestOptions{});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->incidents_updated, 1u);
  EXPECT_NE(*st.SnapshotKey(), k2);
  // An incident without a file hash is never taken for unchanged.
  s = ingest({from("e", "")}, keep);
  ASSERT_TRUE(s.ok());
  s = ingest({from("e", "")}, keep);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->incidents_updated, 1u);
  std::vector<std::string> ids;
  ASSERT_TRUE(st.ForEachIncident([&](Incident& inc) {
                  ids.push_back(inc.id);
                  return true;
                }).ok());
  EXPECT_THAT(ids, ElementsAre("a", "b", "d", "c", "e"));
}

// Store::WholeFiles: the files every incident of which is stored from their bytes. Incidents
// stored without their file's count (before schema v7) get it when found unchanged.
TEST(Store, WholeFilesAreThoseEveryIncidentOfWhichIsStored) {
  auto store = Store::Open(FreshPath("whole.db"));
  ASSERT_TRUE(store.ok());
  Store& st = **store;
  auto from = [](std::string id, std::string sha, size_t held) {
    Incident inc = Sample(std::move(id));
    inc.provenance = {"bundle.json", "stix", std::move(sha), held};
    return inc;
  };
  auto ingest = [&](std::vector<Incident> incidents) {
    return IngestWith(st, std::move(incidents), IngestOptions{.keep_unchanged = true});
  };
  // Without counts (as stored before v7): no file is known whole.
  ASSERT_TRUE(ingest({from("a", "s1", 0), from("b", "s1", 0), from("c", "s2", 0)}).ok());
  EXPECT_TRUE(st.WholeFiles()->empty());
  // Found unchanged, they get their file's count: a write, though no incident changed.
  const std::string k1 = *st.SnapshotKey();
  absl::StatusOr<IngestSummary> s = ingest({from("a", "s1", 2), from("b", "s1", 2)});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->incidents_unchanged, 2u);
  EXPECT_NE(*st.SnapshotKey(), k1);
  absl::StatusOr<std::unordered_map<std::string, size_t>> whole = st.WholeFiles();
  ASSERT_TRUE(whole.ok());
  EXPECT_THAT(*whole, UnorderedElementsAre(std::pair(Store::WholeFileKey("s1", "stix"), 2u)));
  EXPECT_EQ(st.GetIncident("a")->provenance.file_incidents, 2u);
  // The next time, nothing is written.
  const std::string k2 = *st.SnapshotKey();
  ASSERT_TRUE(ingest({from("a", "s1", 2), from("b", "s1", 2)}).ok());
  EXPECT_EQ(*st.SnapshotKey(), k2);
  // One of the file's incidents removed, or replaced from other bytes: no longer whole.
  ASSERT_TRUE(st.Remove({"b"}).ok());
  EXPECT_TRUE(st.WholeFiles()->empty());
  ASSERT_TRUE(ingest({from("b", "s1", 2)}).ok());
  EXPECT_EQ(st.WholeFiles()->size(), 1u);
  ASSERT_TRUE(ingest({from("a", "s3", 1)}).ok());
  whole = st.WholeFiles();
  ASSERT_TRUE(whole.ok());
  EXPECT_THAT(*whole, UnorderedElementsAre(std::pair(Store::WholeFileKey("s3", "stix"), 1u)));
}

}  // namespace
}  // namespace kinship
