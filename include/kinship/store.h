// The embedded store: one SQLite database file (WAL) that is kinship's system of record for
// incidents, indicators, warninglists and the knowledge base. Schema is versioned with forward
// migrations applied on Open.
//
// Example:
//   KINSHIP_ASSIGN_OR_RETURN(auto store, Store::Open("kinship.db"));
//   KINSHIP_ASSIGN_OR_RETURN(IngestSummary s, store->Ingest(incidents));
//   KINSHIP_ASSIGN_OR_RETURN(Incident inc, store->GetIncident(id));
//
// A Store is used from one thread at a time (it owns one SQLite connection). Several processes
// may open the same file; SQLite's locking serialises writers.
#ifndef KINSHIP_STORE_H_
#define KINSHIP_STORE_H_

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "kinship/model.h"
#include "kinship/status.h"
#include "kinship/warninglist.h"

namespace kinship {

// What a write transaction states for keeping an index snapshot of the store current: the
// store's SnapshotKey before it and the one its commit made, how many incidents were stored
// before it, and the stored incidents it took out (replaced by an ingest, or removed), distinct,
// in the order met. The store then reads (in insertion order) as before without those, followed
// by what the write added (a replaced incident's new version included): an index of the store
// before grows into one of the store after by taking those out and adding the incidents from
// the (incidents_before - leaving.size())-th on (ForEachIncident's `skip`).
struct StoreWrite {
  std::string key_before, key_after;
  size_t incidents_before = 0;
  std::vector<std::string> leaving;
};

struct IngestSummary {
  size_t incidents_added = 0;
  size_t incidents_updated = 0;  // same id seen before: replaced, never duplicated
  // Same id stored before from a file with the same bytes (SHA-256) and format: left as stored,
  // nothing written (IngestOptions::keep_unchanged).
  size_t incidents_unchanged = 0;
  size_t indicators = 0;          // rows written (including derived)
  size_t invalid_indicators = 0;  // kept for display, not indexed
  size_t benign_indicators = 0;   // matched a warninglist
  // Incidents left out because the source says they are older than the stored version
  // (Provenance::source_modified): their ids, in input order.
  std::vector<std::string> older;
  StoreWrite write;  // `leaving`: the stored incidents it replaced
};

// How Store::IngestBatches treats incidents it holds already.
struct IngestOptions {
  // An incident whose id is stored from a file with the same bytes (Provenance::sha256, not
  // empty) and format, by an earlier call, is left as stored rather than replaced by itself: a
  // MISP feed pulled again brings every event, and only those changed upstream are written
  // (and leave the index snapshots). Off for writes that change incidents read from the same
  // file (the KB import's re-linking).
  bool keep_unchanged = false;
  // Runs inside the write's transaction, before `next()` is first called: writes more than
  // incidents that must commit, or roll back, with them (kb::Import writes the knowledge base's
  // sources there, then reads them back to re-link the stored incidents). A write with it
  // commits even when it writes no incident, and is journaled as one that changed more than
  // incidents, so an index snapshot of the store before it cannot catch up from the journal.
  std::function<absl::Status()> first = {};
};

// What Store::Remove took out.
struct RemoveSummary {
  size_t removed = 0;         // incidents
  size_t indicators = 0;      // their indicator rows (derived ones included)
  size_t values_deleted = 0;  // values no stored incident holds any more
  StoreWrite write;           // `leaving`: the incidents removed
};

struct IncidentSummary {
  std::string id;
  std::string title;
  std::string source;
  std::string first_seen;
  std::string format;
  std::string file;          // the input it was read from (provenance), as given to ingest
  std::string first_stored;  // Provenance::first_stored
  size_t indicators = 0;
  size_t techniques = 0;
  std::vector<std::string> attributed_to;  // stated actor names (ids when resolved)
};

struct StoreStats {
  size_t incidents = 0, indicators = 0, distinct_values = 0, warninglists = 0;
  size_t prose_texts = 0, prose_bytes = 0;  // the prose kept for kb import (Store::Prose)
  size_t listings = 0;  // reports listed by a stored STIX report, kept for kb import (Listings)
  int schema_version = 0;
  std::string path;
};

class Store {
 public:
  // Opens (creating when `create` and absent) the database at `path` and migrates its schema.
  // Errors: kNotFound (absent, !create); kDataLoss (not a kinship database or damaged);
  // kFailedPrecondition (schema newer than this build).
  static absl::StatusOr<std::unique_ptr<Store>> Open(const std::string& path, bool create = true);
  ~Store();

  // Writes incidents (already normalised) in ONE transaction: an incident whose id exists is
  // replaced. Marks indicators that match the stored warninglists. On any error nothing is
  // written and the file is as before; a call that writes no incident (all unchanged, or none)
  // commits nothing, and the store's key stays as it was.
  absl::StatusOr<IngestSummary> Ingest(std::vector<Incident>& incidents);
  // The same, streamed: `next()` hands over the next batch of incidents (e.g. one parsed file;
  // never empty) or an empty span at the end, or an error, which rolls the whole call back and is
  // returned. Still ONE transaction. The store is done with a batch when it calls `next()` again,
  // so the caller may free it then and may still be preparing later batches on other threads:
  // memory is bounded by the batches in flight, not by the whole input.
  using BatchSource = std::function<absl::StatusOr<std::span<Incident>>()>;
  absl::StatusOr<IngestSummary> IngestBatches(const BatchSource& next, IngestOptions options = {});

  // The files every incident of which is stored from the same bytes: for each, how many incidents
  // it held, keyed by WholeFileKey(sha256, format) (Provenance). An unchanged file of a feed
  // pulled again is one: `kinship ingest` need not parse it (IngestOptions::keep_unchanged would
  // leave each of its incidents as stored). A file one of whose incidents was removed, or
  // replaced from other bytes, is not.
  absl::StatusOr<std::unordered_map<std::string, size_t>> WholeFiles();
  static std::string WholeFileKey(std::string_view sha256, std::string_view format) {
    return std::string(sha256) + '\n' + std::string(format);
  }

  // Removes the incidents with these ids (duplicates ignored), with everything stored under
  // them, in ONE transaction, and deletes the values no stored incident holds any more (deleted
  // pages are overwritten: SQLite's secure_delete). Errors: kNotFound naming the first id the
  // store does not hold, and then nothing is removed.
  absl::StatusOr<RemoveSummary> Remove(const std::vector<std::string>& ids);

  absl::StatusOr<std::vector<IncidentSummary>> ListIncidents();
  // How many incidents the store holds (Stats counts every table).
  absl::StatusOr<size_t> IncidentCount();

  // How much of an incident a scan or a lookup reads. kAnalysis leaves out what only a person
  // reads: the description, the source's version (Provenance::source_modified), and each
  // indicator's raw form, category, comment, location and snippet, and the locations and
  // snippets of techniques, software, attributions and actor mentions (left empty). On the
  // 100,000-event feed of bench/gen (15.3 M indicators) that is most of the reader's allocations.
  // kNaming reads, of kAnalysis, only the stated (not derived) domains, URLs and file names with
  // their warninglist marks, and no techniques, software, attributions or actor mentions: what
  // naming style's sources read (score::NamingTexts), a third of the feed's indicators and their
  // value lookups. kStyle reads kNaming's indicators, the domains derived from URL hosts, and the
  // attributions: what the naming-style index (attrib::StyleIndex) and naming's sources read, for
  // an index loaded from a snapshot. kLinks reads all of kFull but the indicators: what `kb
  // import`'s re-linking looks at to tell which incidents change (on that feed, an import with
  // nothing to re-link took 34.8 s reading them, 5.7 s without).
  enum class Detail { kFull, kAnalysis, kNaming, kStyle, kLinks };

  // Incident by id (its statements prepared once per store and detail). Errors: kNotFound.
  absl::StatusOr<Incident> GetIncident(const std::string& id, Detail detail = Detail::kFull);

  // The prose a stored incident was read from (Incident::prose, which no incident read fills),
  // in the order it was read; none for an unknown id or an incident stored before the store
  // kept it (schema v8). IncidentsWithProse: the ids of the incidents that have some, in
  // storage order. For `kb import`'s re-linking.
  absl::StatusOr<std::vector<ProseText>> Prose(const std::string& id);
  absl::StatusOr<std::vector<std::string>> IncidentsWithProse();

  // What the stored STIX reports and groupings list (Incident::lists, which no incident read
  // fills): one row per listed id, by listing incident in storage order, then in its order.
  // None for incidents stored before the store kept them (schema v10). For `kb import`.
  struct Listing {
    std::string incident;  // the listing report's id
    std::string listed;    // the id of a report it lists
  };
  absl::StatusOr<std::vector<Listing>> Listings();

  // Exact correlation: which stored incidents hold canonical `value` of `type` (ids, titles and
  // first-seen dates, in insertion order), and the warninglists the value matched. An unknown
  // value holds none. `stated_only`: only incidents whose source states the value, not those
  // holding it as a derived value (a network derived from an address, a registered domain).
  struct ValueHolders {
    std::vector<std::string> incident_ids;
    std::vector<std::string> titles;
    std::vector<std::string> first_seen;
    std::vector<std::string> warninglists;
  };
  absl::StatusOr<ValueHolders> IncidentsWithValue(IndicatorType type, std::string_view value,
                                                  bool stated_only = false);

  // What is stored inside canonical network `cidr` (MISP's CIDR correlation, the other way): the
  // addresses inside it, each with every incident holding it, and the narrower networks some
  // incident states inside it (`stated_only`), in address order. At most `limit` values inside
  // are looked up (a network derived from an address counts, though it is not listed);
  // `truncated` says more were left, and those looked up are the first in the index's order.
  // Read from ranges of the (type, value) index: IPv4's dotted form keeps whole octets in order,
  // so a /20 is sixteen ranges ("a.b.c." for each third octet); an IPv6 network is the range of
  // its first group when that is not zero, else every IPv6 value. Errors: kInvalidArgument when
  // `cidr` is no network.
  struct ValueInside {
    IndicatorType type;
    std::string value;
    ValueHolders holders;
  };
  struct ValuesInsideNetwork {
    std::vector<ValueInside> values;
    bool truncated = false;
  };
  absl::StatusOr<ValuesInsideNetwork> ValuesInside(std::string_view cidr, size_t limit);

  // Which incidents a scan reads: every one, or only those whose source states an attribution
  // (all the naming-style index can take; a fifth of the feed of bench/gen).
  enum class Which { kAll, kAttributed };

  // Streams every incident (of `which`), in insertion order, to `fn` (which may stop early by
  // returning false, and may move from the incident). Cheaper than GetIncident per id: one pass
  // over each table. `skip`: the first `skip` of those incidents (in that order) are left out.
  absl::Status ForEachIncident(const std::function<bool(Incident&)>& fn,
                               Detail detail = Detail::kFull, size_t skip = 0,
                               Which which = Which::kAll);
  // The same, with the store read on a thread of its own up to `ahead` incidents before `fn`
  // (called on the caller's thread, in order) takes them, so reading overlaps with fn's work.
  // Nothing else may use the store until it returns.
  absl::Status ForEachIncidentReadAhead(const std::function<bool(Incident&)>& fn, size_t ahead = 64,
                                        Detail detail = Detail::kFull, size_t skip = 0,
                                        Which which = Which::kAll);

  // Replaces the stored warninglists and re-marks every stored indicator, in one transaction.
  absl::Status ReplaceWarninglists(const std::vector<Warninglist>& lists);
  absl::StatusOr<std::vector<Warninglist>> Warninglists();

  absl::StatusOr<StoreStats> Stats();

  // SQLite's `PRAGMA data_version` for this connection: it changes when another connection (another
  // process's `kinship ingest`, say) commits a change to the file. A long-running reader (the
  // server) compares it with the value it indexed at to know when to index again.
  absl::StatusOr<int64_t> DataVersion();

  // What an index snapshot of this store is keyed by: the store's random identity (made when its
  // schema got version 5), its schema version and its generation, a random value every write
  // transaction sets anew (ingest, warninglists, KB import). Equal keys mean the same store with
  // nothing written since; two copies of one file written apart get keys of their own.
  absl::StatusOr<std::string> SnapshotKey();

  // What changed since the store's key was `key`, for an index of the store as it was then (a
  // snapshot, a server's index) to catch up instead of indexing the store whole: one StoreWrite
  // from `key` to the key now, read from the store's journal of writes (every commit writes
  // one row; Transaction::Commit). `leaving` joins the writes' (distinct, oldest write first) and
  // may name incidents stored after `key` and gone again, which an index of the store at `key`
  // never held. std::nullopt when the journal cannot say: a write since was not an ingest or a
  // removal (a KB import or new warninglists change what is indexed), the journal no longer
  // reaches back to `key` (it keeps the last 64 writes, and of those as far back as a million
  // incidents left), or `key` is another store's. Read in one read transaction.
  absl::StatusOr<std::optional<StoreWrite>> ChangesSince(std::string_view key);

  const std::string& path() const;

  struct Impl;
  Impl* impl() { return impl_.get(); }  // for library stages (kb, index); not for front-ends

 private:
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kinship

#endif  // KINSHIP_STORE_H_
