// Which incidents hold each canonical value: exact correlation ("where else have we seen
// 176.31.112.10?") straight from the store, without a pass over the indicator rows.
//
// Table value_incidents (schema v4): per value, one row per ingest call that added incidents to
// it (a "segment", keyed by (value_id, segment)), holding those incidents' rowids ascending, as
// LEB128 varints of the gaps. A segment is written once, in value order, at the end of the call;
// only replacing an incident rewrites the segments of its values.
//
// Written by hand rather than kept as an SQL index on indicator(value_id) because of bulk-ingest
// cost: at 1 M indicators (1.5 M rows), rebuilding that index by sort took 1.2-2.0 s of a 5 s
// ingest (the sqlite3 shell on the same rows: CREATE INDEX 2.06 s; these segments 0.14 s).
#ifndef KINSHIP_STORE_VALUE_INCIDENTS_H_
#define KINSHIP_STORE_VALUE_INCIDENTS_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "kinship/status.h"
#include "store/sqlite.h"

namespace kinship::store {

// Ascending ids as LEB128 varints of the gaps (the first id's gap is from 0).
void EncodeAscending(std::span<const int64_t> ids, std::string* out);
// Appends the decoded ids to `out`. kDataLoss on a truncated or overlong varint.
absl::Status DecodeAscending(std::string_view bytes, std::vector<int64_t>* out);

// Collects the (value, incident) pairs of one ingest call and writes them as one segment per
// value at the end.
class ValueIncidentsWriter {
 public:
  void Add(int64_t value_id, int64_t incident) { pairs_.emplace_back(value_id, incident); }
  // An incident written earlier in this call has been replaced: the pairs added for it so far
  // are not written.
  void Forget(int64_t incident);
  // Writes one segment per value, under a new segment number (store_meta's counter, larger than
  // any before). Pairs should be added in incident rowid order (ingest gives each incident of a
  // call a rowid above the last); out of order costs an insertion.
  absl::Status Write(Db& db);

 private:
  std::vector<std::pair<int64_t, int64_t>> pairs_;  // (value id, incident rowid)
  absl::flat_hash_map<int64_t, size_t> forgotten_;  // incident -> pairs_.size() when forgotten
};

// Takes stored incidents out of the segments of their values, in batches: each segment is read
// and rewritten once per batch however many of its incidents leave (one at a time, replacing a
// feed whose values are shared by thousands of incidents rewrote the same segments thousands of
// times: 30 s against 7 s for the first ingest of 20,000 events).
class ValueIncidentsRemover {
 public:
  static absl::StatusOr<ValueIncidentsRemover> Make(Db& db);
  // Notes that `incident` leaves the segments of every value its stored indicator rows (ids
  // [first, first + count)) reference; call before deleting those rows. Nothing is rewritten
  // until Flush.
  absl::Status Add(int64_t incident, int64_t first, int64_t count);
  // (value, incident) pairs noted and not yet flushed.
  size_t pending() const { return leaving_.size(); }
  // Takes the noted incidents out of the segments; segments left empty are deleted. With
  // `orphaned`, appends the values no segment holds any more: no stored incident holds them.
  absl::Status Flush(std::vector<int64_t>* orphaned = nullptr);

 private:
  Statement values_, segments_, update_, remove_;
  std::vector<std::pair<int64_t, int64_t>> leaving_;  // (value id, incident rowid)
};

// The rowids of the incidents holding `value_id`, ascending.
absl::StatusOr<std::vector<int64_t>> IncidentsWithValue(Db& db, int64_t value_id);
// The same with `segments` prepared from kSegmentsQuery (reset after), for many values.
inline constexpr std::string_view kSegmentsQuery =
    "SELECT incidents FROM value_incidents WHERE value_id = ? ORDER BY segment";
absl::StatusOr<std::vector<int64_t>> IncidentsWithValue(Statement& segments, int64_t value_id);

// Builds the table from the indicator rows (the v4 migration of an older store).
absl::Status FillValueIncidents(Db& db);

}  // namespace kinship::store

#endif  // KINSHIP_STORE_VALUE_INCIDENTS_H_
