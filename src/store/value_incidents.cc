// Which incidents hold each canonical value (see value_incidents.h).
#include "store/value_incidents.h"

#include <algorithm>
#include <iterator>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "util/varint.h"

namespace kinship::store {
namespace {

// Segments written per INSERT statement (one statement execution per 64 values).
constexpr int kSegmentsPerInsert = 64;

std::string InsertSql(int rows) {
  std::string sql = "INSERT INTO value_incidents (value_id, segment, incidents) VALUES ";
  for (int r = 0; r < rows; ++r) absl::StrAppend(&sql, r == 0 ? "" : ",", "(?,?,?)");
  return sql;
}

absl::StatusOr<int64_t> NextSegment(Db& db) {
  KINSHIP_ASSIGN_OR_RETURN(
      Statement s,
      db.Prepare("UPDATE store_meta SET value = value + 1 WHERE name = 'segment' RETURNING value"));
  KINSHIP_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return absl::DataLossError("store_meta has no 'segment' counter");
  const int64_t v = s.ColumnInt(0);
  KINSHIP_ASSIGN_OR_RETURN(bool more, s.Step());
  (void)more;
  return v;
}

}  // namespace

void EncodeAscending(std::span<const int64_t> ids, std::string* out) {
  out->clear();
  uint64_t prev = 0;
  for (int64_t id : ids) {
    char buf[util::kMaxVarintBytes];
    out->append(buf, util::PutVarint(static_cast<uint64_t>(id) - prev, buf));
    prev = static_cast<uint64_t>(id);
  }
}

absl::Status DecodeAscending(std::string_view bytes, std::vector<int64_t>* out) {
  uint64_t prev = 0;
  size_t i = 0;
  while (i < bytes.size()) {
    uint64_t gap = 0;
    const size_t n = util::GetVarint(bytes.data() + i, bytes.size() - i, &gap);
    if (n == 0) return absl::DataLossError("value_incidents: truncated or overlong varint");
    i += n;
    prev += gap;
    out->push_back(static_cast<int64_t>(prev));
  }
  return absl::OkStatus();
}

void ValueIncidentsWriter::Forget(int64_t incident) { forgotten_[incident] = pairs_.size(); }

absl::Status ValueIncidentsWriter::Write(Db& db) {
  if (!forgotten_.empty()) {
    size_t out = 0;
    for (size_t i = 0; i < pairs_.size(); ++i) {
      auto it = forgotten_.find(pairs_[i].second);
      if (it != forgotten_.end() && i < it->second) continue;  // added before it was replaced
      pairs_[out++] = pairs_[i];
    }
    pairs_.resize(out);
  }
  if (pairs_.empty()) return absl::OkStatus();
  // Incidents arrive in rowid order, so a stable sort by value alone leaves each value's incidents
  // ascending (pairs out of order are handled below). Value ids are dense, so a
  // counting sort when their range is not much wider than the pairs (a bulk load: 1.5 M pairs in
  // ~30 ms instead of ~250 ms for std::stable_sort), else the library's stable sort.
  int64_t lo = pairs_.front().first, hi = lo;
  for (const auto& p : pairs_) {
    lo = std::min(lo, p.first);
    hi = std::max(hi, p.first);
  }
  const uint64_t range = static_cast<uint64_t>(hi - lo) + 1;
  if (range <= 4 * pairs_.size() + 1024) {
    std::vector<size_t> start(range + 1, 0);
    for (const auto& p : pairs_) ++start[static_cast<size_t>(p.first - lo) + 1];
    for (size_t v = 1; v <= range; ++v) start[v] += start[v - 1];
    std::vector<std::pair<int64_t, int64_t>> sorted(pairs_.size());
    for (const auto& p : pairs_) sorted[start[static_cast<size_t>(p.first - lo)]++] = p;
    pairs_.swap(sorted);
  } else {
    std::stable_sort(pairs_.begin(), pairs_.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
  }
  KINSHIP_ASSIGN_OR_RETURN(const int64_t segment, NextSegment(db));
  KINSHIP_ASSIGN_OR_RETURN(Statement many, db.Prepare(InsertSql(kSegmentsPerInsert)));
  KINSHIP_ASSIGN_OR_RETURN(Statement one, db.Prepare(InsertSql(1)));
  std::vector<std::string> blobs(kSegmentsPerInsert);
  std::vector<int64_t> values(kSegmentsPerInsert);
  std::vector<int64_t> ids;
  int pending = 0;
  auto flush = [&](bool all) -> absl::Status {
    if (pending == kSegmentsPerInsert) {
      for (int r = 0; r < pending; ++r) {
        many.Bind(3 * r + 1, values[r]);
        many.Bind(3 * r + 2, segment);
        many.BindBlobStatic(3 * r + 3, blobs[r]);
      }
      KINSHIP_RETURN_IF_ERROR(many.Run());
      pending = 0;
    } else if (all) {
      for (int r = 0; r < pending; ++r) {
        one.Bind(1, values[r]);
        one.Bind(2, segment);
        one.BindBlobStatic(3, blobs[r]);
        KINSHIP_RETURN_IF_ERROR(one.Run());
      }
      pending = 0;
    }
    return absl::OkStatus();
  };
  for (size_t i = 0; i < pairs_.size();) {
    const int64_t value = pairs_[i].first;
    ids.clear();
    for (; i < pairs_.size() && pairs_[i].first == value; ++i) {
      const int64_t incident = pairs_[i].second;
      if (ids.empty() || ids.back() < incident) {
        ids.push_back(incident);
      } else if (ids.back() != incident) {  // out of order
        ids.insert(std::lower_bound(ids.begin(), ids.end(), incident), incident);
        ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
      }
    }
    values[pending] = value;
    EncodeAscending(ids, &blobs[pending]);
    ++pending;
    KINSHIP_RETURN_IF_ERROR(flush(false));
  }
  KINSHIP_RETURN_IF_ERROR(flush(true));
  pairs_.clear();
  forgotten_.clear();
  return absl::OkStatus();
}

absl::StatusOr<ValueIncidentsRemover> ValueIncidentsRemover::Make(Db& db) {
  ValueIncidentsRemover r;
  KINSHIP_ASSIGN_OR_RETURN(
      r.values_,
      db.Prepare("SELECT DISTINCT value_id FROM indicator WHERE id >= ?1 AND id < ?1 + ?2 AND "
                 "value_id IS NOT NULL"));
  KINSHIP_ASSIGN_OR_RETURN(
      r.segments_, db.Prepare("SELECT segment, incidents FROM value_incidents WHERE value_id = ?"));
  KINSHIP_ASSIGN_OR_RETURN(
      r.update_,
      db.Prepare("UPDATE value_incidents SET incidents = ? WHERE value_id = ? AND segment = ?"));
  KINSHIP_ASSIGN_OR_RETURN(
      r.remove_, db.Prepare("DELETE FROM value_incidents WHERE value_id = ? AND segment = ?"));
  return r;
}

absl::Status ValueIncidentsRemover::Add(int64_t incident, int64_t first, int64_t count) {
  values_.Bind(1, first);
  values_.Bind(2, count);
  while (true) {
    absl::StatusOr<bool> row = values_.Step();
    if (!row.ok() || !*row) {
      values_.Reset();
      if (!row.ok()) return row.status();
      break;
    }
    leaving_.emplace_back(values_.ColumnInt(0), incident);
  }
  return absl::OkStatus();
}

absl::Status ValueIncidentsRemover::Flush(std::vector<int64_t>* orphaned) {
  std::sort(leaving_.begin(), leaving_.end());
  leaving_.erase(std::unique(leaving_.begin(), leaving_.end()), leaving_.end());
  std::vector<int64_t> gone, ids, rest;
  std::vector<std::pair<int64_t, std::vector<int64_t>>> changed;
  std::string blob;
  for (size_t i = 0; i < leaving_.size();) {
    const int64_t value = leaving_[i].first;
    gone.clear();
    for (; i < leaving_.size() && leaving_[i].first == value; ++i) {
      gone.push_back(leaving_[i].second);
    }
    changed.clear();
    size_t kept = 0;  // segments of the value left holding some incident
    segments_.Bind(1, value);
    while (true) {
      absl::StatusOr<bool> row = segments_.Step();
      if (!row.ok()) {
        segments_.Reset();
        return row.status();
      }
      if (!*row) break;
      ids.clear();
      absl::Status decoded = DecodeAscending(segments_.ColumnBlob(1), &ids);
      if (!decoded.ok()) {
        segments_.Reset();
        return decoded;
      }
      rest.clear();
      std::set_difference(ids.begin(), ids.end(), gone.begin(), gone.end(),
                          std::back_inserter(rest));
      if (!rest.empty()) ++kept;
      if (rest.size() != ids.size()) changed.emplace_back(segments_.ColumnInt(0), rest);
    }
    segments_.Reset();
    if (orphaned != nullptr && kept == 0) orphaned->push_back(value);
    for (const auto& [segment, left] : changed) {
      if (left.empty()) {
        KINSHIP_RETURN_IF_ERROR(remove_.RunWith(value, segment));
      } else {
        EncodeAscending(left, &blob);
        update_.BindBlobStatic(1, blob);
        update_.Bind(2, value);
        update_.Bind(3, segment);
        KINSHIP_RETURN_IF_ERROR(update_.Run());
      }
    }
  }
  leaving_.clear();
  leaving_.shrink_to_fit();
  return absl::OkStatus();
}

absl::StatusOr<std::vector<int64_t>> IncidentsWithValue(Statement& segments, int64_t value_id) {
  segments.Bind(1, value_id);
  std::vector<int64_t> out;
  while (true) {
    absl::StatusOr<bool> row = segments.Step();
    if (!row.ok() || !*row) {
      segments.Reset();
      if (!row.ok()) return row.status();
      break;
    }
    absl::Status decoded = DecodeAscending(segments.ColumnBlob(0), &out);
    if (!decoded.ok()) {
      segments.Reset();
      return decoded;
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

absl::StatusOr<std::vector<int64_t>> IncidentsWithValue(Db& db, int64_t value_id) {
  KINSHIP_ASSIGN_OR_RETURN(Statement s, db.Prepare(kSegmentsQuery));
  return IncidentsWithValue(s, value_id);
}

absl::Status FillValueIncidents(Db& db) {
  KINSHIP_ASSIGN_OR_RETURN(
      Statement s, db.Prepare("SELECT value_id, incident FROM indicator WHERE value_id IS NOT "
                              "NULL ORDER BY incident, seq"));
  ValueIncidentsWriter writer;
  while (true) {
    KINSHIP_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    writer.Add(s.ColumnInt(0), s.ColumnInt(1));
  }
  s.Reset();
  return writer.Write(db);
}

}  // namespace kinship::store
