// kinship ingest / incidents / show / stats: loading files into the store and reading them back.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <new>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/command.h"
#include "cli/unstored.h"
#include "cli/views.h"
#include "kinship/attribution.h"
#include "kinship/ingest.h"
#include "kinship/kb.h"
#include "kinship/normalize.h"
#include "kinship/parallel.h"
#include "kinship/similarity.h"

namespace kinship::cli {
namespace {

struct IngestArgs {
  std::vector<std::string> paths;
  std::string format = "auto";
  bool skip_bad = false;
  bool again = false;  // replace stored incidents read from the same file bytes too
  int max_warnings = 20;
};

// One listed input on its way through the pipeline: parsed by a worker, its incidents normalised
// by any worker (a big file's many incidents in parallel), written by the main thread as they
// become ready.
struct Slot {
  absl::StatusOr<ingest::ParseOutput> out;
  std::atomic<bool> parsed{false};
  size_t count = 0;                                    // incidents; set before `parsed`
  std::atomic<size_t> next_normalise{0};               // next incident a worker claims
  std::unique_ptr<std::atomic<bool>[]> ready;          // per incident: normalised
  std::unique_ptr<std::atomic<bool>[]> out_of_memory;  // per incident, set before `ready`
  std::vector<std::vector<Diagnostic>> diagnostics;    // per incident, from normalising
};

absl::Status RunIngest(GlobalOptions& g, const IngestArgs& args) {
  auto format = ingest::FormatFromName(args.format);
  if (!format) {
    return absl::InvalidArgumentError(absl::StrCat("unknown --format '", args.format, "'"));
  }
  // Every input is listed first: a missing path, or a feed naming a missing event, fails before
  // any store is touched.
  std::vector<ingest::InputFile> inputs;
  for (const std::string& path : args.paths) {
    auto listed = ingest::ListInputs(path);
    if (!listed.ok()) {
      // A missing or unreadable input is bad input (exit 3), not a missing store object.
      if (listed.status().code() == absl::StatusCode::kNotFound) {
        return absl::InvalidArgumentError(listed.status().message());
      }
      return listed.status();
    }
    for (ingest::InputFile& f : *listed) inputs.push_back(std::move(f));
  }
  // An existing store is opened first (its knowledge base helps parse reports). A new one is
  // created now, so that writing can start while later files are still being parsed, and is
  // removed again if the ingest fails: a failed ingest leaves no file behind.
  std::unique_ptr<Store> store;
  bool created = false;
  kb::KnowledgeBase kb;
  if (auto existing = Store::Open(g.db, /*create=*/false); existing.ok()) {
    store = std::move(*existing);
    KINSHIP_ASSIGN_OR_RETURN(kb, kb::KnowledgeBase::Load(*store));
  } else if (existing.status().code() != absl::StatusCode::kNotFound) {
    return existing.status();
  } else {
    KINSHIP_ASSIGN_OR_RETURN(store, OpenStore(g, /*create=*/true));
    created = true;
  }
  ingest::Options opts;
  opts.format = *format;
  opts.skip_bad_records = args.skip_bad;
  opts.kb = kb.empty() ? nullptr : &kb;
  // The files every incident of which is stored from the same bytes are not even parsed: a MISP
  // feed pulled again is mostly those (on the 100,000-event feed, parsing them is most of the
  // time its ingest takes).
  std::unordered_map<std::string, size_t> whole;
  if (!args.again && !created) {
    KINSHIP_ASSIGN_OR_RETURN(whole, store->WholeFiles());
    opts.stored_whole = [&whole](std::string_view sha256, ingest::Format read_as) -> size_t {
      const auto it = whole.find(Store::WholeFileKey(sha256, ingest::FormatName(read_as)));
      return it == whole.end() ? 0 : it->second;
    };
  }
  size_t unchanged_files = 0, unchanged_in_files = 0;  // files not parsed, their incidents

  // The pipeline: worker threads parse files (independent of each other) at most `lookahead`
  // files ahead of the writer, normalise their incidents (any worker may take any parsed
  // incident, oldest file first) and free the files the store is done with; the writer, this
  // thread, writes incidents in input order as they become ready, in one transaction. Neither
  // parsing nor freeing is on the writer's path, and memory holds only the files in flight.
  const auto start = std::chrono::steady_clock::now();
  const size_t n = inputs.size();
  const size_t workers = std::max<size_t>(1, util::WorkerCount() - 1);
  const size_t lookahead = std::max<size_t>(16, 4 * workers);
  std::vector<Slot> slots(n);
  std::atomic<size_t> next_file{0};  // next file a worker claims to parse
  std::atomic<size_t> done{0};       // files the store is done with (may be freed)
  std::atomic<size_t> next_free{0};  // next file a worker claims to free
  std::atomic<uint64_t> epoch{0};    // bumped on every change a waiting worker may act on
  std::atomic<bool> stop{false};
  auto bump = [&] {
    epoch.fetch_add(1);
    epoch.notify_all();
  };
  auto work = [&] {
    while (!stop.load()) {
      const uint64_t seen = epoch.load();
      // Free what the store is done with.
      for (size_t f = next_free.load(); f < done.load(); f = next_free.load()) {
        if (next_free.compare_exchange_weak(f, f + 1)) {
          slots[f].out = ingest::ParseOutput();
          slots[f].ready.reset();
          slots[f].out_of_memory.reset();
          slots[f].diagnostics = {};
        }
      }
      // Normalise an incident of the oldest parsed file that has some left.
      const size_t d = done.load();
      const size_t parsing = std::min(next_file.load(), n);
      bool normalised = false;
      for (size_t f = d; f < parsing && !normalised; ++f) {
        Slot& slot = slots[f];
        if (!slot.parsed.load(std::memory_order_acquire) || !slot.out.ok()) continue;
        if (slot.next_normalise.load() >= slot.count) continue;
        const size_t k = slot.next_normalise.fetch_add(1);
        if (k >= slot.count) continue;
        Incident& inc = slot.out->incidents[k];
        // Thrown here, std::bad_alloc would end the process; the writer fails the ingest instead.
        try {
          normalize::NormalizeIncident(inc, &slot.diagnostics[k]);
          if (!kb.empty()) LinkToKb(kb, inc);
        } catch (const std::bad_alloc&) {
          slot.out_of_memory[k].store(true, std::memory_order_relaxed);
        }
        slot.ready[k].store(true, std::memory_order_release);
        slot.ready[k].notify_all();
        normalised = true;
      }
      if (normalised) continue;
      // Parse the next file, if not too far ahead of the writer.
      const size_t i = next_file.load();
      if (i < n && i < d + lookahead) {
        size_t claimed = i;
        if (!next_file.compare_exchange_weak(claimed, i + 1)) continue;
        Slot& slot = slots[i];
        slot.out = ingest::ParseInput(inputs[i], opts);
        if (slot.out.ok()) {
          slot.count = slot.out->incidents.size();
          slot.ready = std::make_unique<std::atomic<bool>[]>(slot.count);
          slot.out_of_memory = std::make_unique<std::atomic<bool>[]>(slot.count);
          slot.diagnostics.resize(slot.count);
        }
        slot.parsed.store(true, std::memory_order_release);
        slot.parsed.notify_all();
        bump();
        continue;
      }
      if (i >= n && next_free.load() >= n) return;
      epoch.wait(seen);  // nothing to do until the writer or another worker moves on
    }
  };

  Progress(g, absl::StrCat("parsing, normalising and writing ", n, n == 1 ? " file" : " files",
                           " to the store (one transaction)"));
  std::vector<std::string> ids;
  std::vector<Diagnostic> diagnostics;
  size_t file = 0;      // the file being written
  size_t position = 0;  // its next incident
  bool entered = false;
  const size_t step = std::max<size_t>(1, n / 10);
  absl::StatusOr<IngestSummary> written;
  {
    std::vector<std::jthread> threads;
    for (size_t t = 0; t < workers && t < n; ++t) threads.emplace_back(work);
    // Hands the store the next run of ready incidents, in input order. Out of memory in this
    // thread is an error like any other, so the workers below are still stopped and joined.
    try {
      written = store->IngestBatches(
          [&]() -> absl::StatusOr<std::span<Incident>> {
            while (file < n) {
              Slot& slot = slots[file];
              if (!entered) {
                done.store(file);  // the store is done with every earlier file
                bump();
                if (file > 0 && file % step == 0 && n >= 100) {
                  Progress(g, absl::StrCat("  ", file, "/", n, " files written"));
                }
                slot.parsed.wait(false, std::memory_order_acquire);
                if (!slot.out.ok()) return slot.out.status();
                for (Diagnostic& d : slot.out->diagnostics) diagnostics.push_back(std::move(d));
                if (slot.out->unchanged_incidents > 0) {
                  ++unchanged_files;
                  unchanged_in_files += slot.out->unchanged_incidents;
                }
                entered = true;
              }
              if (position >= slot.count) {
                ++file;
                position = 0;
                entered = false;
                continue;
              }
              slot.ready[position].wait(false, std::memory_order_acquire);
              size_t end = position + 1;
              while (end < slot.count && slot.ready[end].load(std::memory_order_acquire)) ++end;
              for (size_t k = position; k < end; ++k) {
                if (slot.out_of_memory[k].load(std::memory_order_relaxed)) {
                  return absl::ResourceExhaustedError(
                      absl::StrCat(inputs[file].path, ": out of memory while normalising incident ",
                                   slot.out->incidents[k].id));
                }
                ids.push_back(slot.out->incidents[k].id);
                for (Diagnostic& d : slot.diagnostics[k]) diagnostics.push_back(std::move(d));
              }
              std::span<Incident> run(slot.out->incidents.data() + position, end - position);
              position = end;
              return run;
            }
            done.store(n);  // the index writes and the commit overlap the last frees
            bump();
            return std::span<Incident>();
          },
          IngestOptions{.keep_unchanged = !args.again});
    } catch (const std::bad_alloc&) {
      // The store's transaction rolled back as the exception left it.
      written = absl::ResourceExhaustedError(
          "out of memory while writing to the store: nothing was written");
    }
    stop.store(!written.ok());
    done.store(n);
    bump();
  }
  if (!written.ok() && created) {
    // Nothing was committed; the file this call created goes again.
    store.reset();
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      std::error_code ec;
      std::filesystem::remove(g.db + suffix, ec);
    }
  }
  KINSHIP_RETURN_IF_ERROR(written.status());
  const IngestSummary& sum = *written;
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // Committed: a current index snapshot is kept current (or says it is stale now).
  const SnapshotRefresh snapshot = created ? SnapshotRefresh{}
                                           : RefreshSnapshot(g, *store, kb.empty() ? nullptr : &kb,
                                                             sum.write, WriteKind::kIngest);

  // Left as stored: the incidents of files not parsed, and those the store found unchanged.
  const size_t unchanged = unchanged_in_files + sum.incidents_unchanged;
  if (g.json) {
    const nlohmann::json diags = DiagnosticsJson(diagnostics);
    nlohmann::json out = {{"incidents_added", sum.incidents_added},
                          {"incidents_updated", sum.incidents_updated},
                          {"incidents_unchanged", unchanged},
                          {"files_unchanged", unchanged_files},
                          {"incidents_older", sum.older.size()},
                          {"older_ids", sum.older},
                          {"indicators", sum.indicators},
                          {"invalid_indicators", sum.invalid_indicators},
                          {"benign_indicators", sum.benign_indicators},
                          {"incident_ids", nlohmann::json(ids)},
                          {"diagnostics", diags},
                          {"seconds", secs}};
    if (snapshot.state != "none") {
      out["index_snapshot"] = {{"path", SnapshotPath(g)},     {"state", snapshot.state},
                               {"why", snapshot.why},         {"added", snapshot.added},
                               {"removed", snapshot.removed}, {"seconds", snapshot.seconds}};
    }
    if (snapshot.style_state != "none") {
      out["style_snapshot"] = {{"path", StyleSnapshotPath(g)},
                               {"state", snapshot.style_state},
                               {"why", snapshot.style_why}};
    }
    PrintJsonLine(out);
    return absl::OkStatus();
  }
  PrintDiagnostics(diagnostics, static_cast<size_t>(args.max_warnings));
  std::printf(
      "ingested %zu incidents (%zu new, %zu updated): %zu indicators, %zu could not be "
      "canonicalised, %zu known-benign; %.2f s\n",
      sum.incidents_added + sum.incidents_updated, sum.incidents_added, sum.incidents_updated,
      sum.indicators, sum.invalid_indicators, sum.benign_indicators, secs);
  if (unchanged > 0) {
    std::printf("%zu incident%s unchanged (stored from the same file bytes) left as stored",
                unchanged, unchanged == 1 ? "" : "s");
    if (unchanged_files > 0) {
      std::printf(", %zu of them in %zu file%s not parsed again", unchanged_in_files,
                  unchanged_files, unchanged_files == 1 ? "" : "s");
    }
    std::printf(" (`--again` replaces them too)\n");
  }
  if (!sum.older.empty()) {
    // Named, as few as there usually are: an old export read after a newer pull.
    constexpr size_t kNamed = 5;
    std::vector<std::string> named(sum.older.begin(),
                                   sum.older.begin() + std::min(kNamed, sum.older.size()));
    std::printf(
        "%zu incident%s older than the stored version (by the source's own time: MISP "
        "timestamp, STIX modified) left as stored: %s%s (`kinship remove` one to store an older "
        "version)\n",
        sum.older.size(), sum.older.size() == 1 ? "" : "s", absl::StrJoin(named, ", ").c_str(),
        sum.older.size() > kNamed
            ? absl::StrCat(" and ", sum.older.size() - kNamed, " more").c_str()
            : "");
  }
  if (snapshot.state == "updated") {
    std::printf("index snapshot %s updated: %zu incidents added", SnapshotPath(g).c_str(),
                snapshot.added);
    if (snapshot.removed > 0) {
      std::printf(" (%zu of them replacing the stored ones)", snapshot.removed);
    }
    std::printf(", %.2f s\n", snapshot.seconds);
  } else if (snapshot.state == "stale") {
    std::printf("index snapshot %s is stale: %s (`kinship index build` saves a current one)\n",
                SnapshotPath(g).c_str(), snapshot.why.c_str());
  }
  if (snapshot.style_state == "updated") {
    std::printf(
        "naming-style snapshot %s kept current: no incident with an actor and a hostname "
        "was added\n",
        StyleSnapshotPath(g).c_str());
  } else if (snapshot.style_state == "stale") {
    // With the similarity snapshot current, the next call that attributes rebuilds this one from
    // the store's names and saves it (Analysis::Load); else only `index build` saves both.
    std::printf("naming-style snapshot %s is stale: %s (%s)\n", StyleSnapshotPath(g).c_str(),
                snapshot.style_why.c_str(),
                snapshot.state == "updated"
                    ? "the next `attribute`, `campaigns` or `serve` reads the store's names, "
                      "trains it and saves it again"
                    : "`kinship index build` saves a current one");
  }
  return absl::OkStatus();
}

// `kinship remove ID...`: the incidents out of the store, in one transaction (an unknown id
// removes nothing). Snapshots current before are kept current as after an ingest: the similarity
// one by taking the incidents out of it, the naming-style one when it holds none of them (else
// its classifier must be trained again).
absl::Status RunRemove(GlobalOptions& g, std::vector<std::string> ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  KINSHIP_ASSIGN_OR_RETURN(auto store, OpenStore(g, /*create=*/false));
  KINSHIP_ASSIGN_OR_RETURN(RemoveSummary sum, store->Remove(ids));
  // No knowledge base: nothing is added to the similarity index, and only adding reads it.
  const SnapshotRefresh snapshot =
      RefreshSnapshot(g, *store, /*kb=*/nullptr, sum.write, WriteKind::kRemoval);
  if (g.json) {
    nlohmann::json out = {{"removed", sum.removed},
                          {"indicators", sum.indicators},
                          {"values_deleted", sum.values_deleted}};
    if (snapshot.state != "none") {
      out["index_snapshot"] = {{"path", SnapshotPath(g)},
                               {"state", snapshot.state},
                               {"why", snapshot.why},
                               {"removed", snapshot.removed},
                               {"seconds", snapshot.seconds}};
    }
    if (snapshot.style_state != "none") {
      out["style_snapshot"] = {{"path", StyleSnapshotPath(g)},
                               {"state", snapshot.style_state},
                               {"why", snapshot.style_why}};
    }
    PrintJsonLine(out);
    return absl::OkStatus();
  }
  std::printf(
      "removed %zu incident%s: %zu indicators, %zu values no other incident holds deleted\n",
      sum.removed, sum.removed == 1 ? "" : "s", sum.indicators, sum.values_deleted);
  if (snapshot.state == "updated") {
    std::printf("index snapshot %s updated: %zu incident%s taken out, %.2f s\n",
                SnapshotPath(g).c_str(), snapshot.removed, snapshot.removed == 1 ? "" : "s",
                snapshot.seconds);
  } else if (snapshot.state == "stale") {
    std::printf("index snapshot %s is stale: %s (`kinship index build` saves a current one)\n",
                SnapshotPath(g).c_str(), snapshot.why.c_str());
  }
  if (snapshot.style_state == "updated") {
    std::printf("naming-style snapshot %s kept current: no removed incident was in it\n",
                StyleSnapshotPath(g).c_str());
  } else if (snapshot.style_state == "stale") {
    std::printf(
        "naming-style snapshot %s is stale: %s (`kinship index build` saves a current one)\n",
        StyleSnapshotPath(g).c_str(), snapshot.style_why.c_str());
  }
  return absl::OkStatus();
}

absl::Status RunIncidents(GlobalOptions& g) {
  KINSHIP_ASSIGN_OR_RETURN(auto store, OpenStore(g, /*create=*/false));
  KINSHIP_ASSIGN_OR_RETURN(auto list, store->ListIncidents());
  for (const IncidentSummary& s : list) {
    if (g.json) {
      PrintJsonLine({{"id", s.id},
                     {"title", s.title},
                     {"source", s.source},
                     {"first_seen", s.first_seen},
                     {"format", s.format},
                     {"file", s.file},
                     {"indicators", s.indicators},
                     {"techniques", s.techniques},
                     {"attributed_to", s.attributed_to}});
    } else {
      std::printf("%-40s  %-10s  %5zu ind  %3zu tech  %s%s\n", s.id.c_str(),
                  s.first_seen.substr(0, 10).c_str(), s.indicators, s.techniques, s.title.c_str(),
                  s.attributed_to.empty()
                      ? ""
                      : absl::StrCat("  [", absl::StrJoin(s.attributed_to, ", "), "]").c_str());
    }
  }
  if (!g.json) std::printf("%zu incidents\n", list.size());
  return absl::OkStatus();
}

// "  (at 12:5: \"...the snippet...\")" for human output, or "" when there is no place.
std::string PlaceText(const std::string& location, const std::string& snippet) {
  if (location.empty() && snippet.empty()) return "";
  if (snippet.empty()) return absl::StrCat("  (at ", location, ")");
  if (location.empty()) return absl::StrCat("  (\"", snippet, "\")");
  return absl::StrCat("  (at ", location, ": \"", snippet, "\")");
}

absl::Status RunShow(GlobalOptions& g, const std::string& id) {
  KINSHIP_ASSIGN_OR_RETURN(auto store, OpenStore(g, /*create=*/false));
  KINSHIP_ASSIGN_OR_RETURN(Incident inc, store->GetIncident(id));
  if (g.json) {
    PrintJsonLine(IncidentJson(inc));
    return absl::OkStatus();
  }
  std::printf("%s\n  id:       %s\n", inc.title.c_str(), inc.id.c_str());
  if (!inc.source.empty()) std::printf("  source:   %s\n", inc.source.c_str());
  if (!inc.first_seen.empty() || !inc.last_seen.empty()) {
    std::printf("  seen:     %s .. %s\n", inc.first_seen.c_str(), inc.last_seen.c_str());
  }
  if (inc.tlp != Tlp::kUnset)
    std::printf("  TLP:      %s\n", std::string(TlpName(inc.tlp)).c_str());
  if (!inc.victim.organisation.empty() || !inc.victim.sector.empty() ||
      !inc.victim.country.empty()) {
    std::printf("  victim:   %s / %s / %s\n", inc.victim.organisation.c_str(),
                inc.victim.sector.c_str(), inc.victim.country.c_str());
  }
  std::printf("  from:     %s (%s, sha256 %s)\n", inc.provenance.file.c_str(),
              inc.provenance.format.c_str(), inc.provenance.sha256.substr(0, 16).c_str());
  if (!inc.provenance.source_modified.empty()) {
    std::printf("  version:  %s (when the source last changed it)\n",
                inc.provenance.source_modified.c_str());
  }
  if (!inc.provenance.first_stored.empty()) {
    std::printf("  stored:   first %s (what a STIX export's objects about it are created at)\n",
                inc.provenance.first_stored.c_str());
  }
  for (const Attribution& a : inc.attributions) {
    std::printf("  stated attribution: %s%s (by %s%s)%s\n", a.actor_name.c_str(),
                a.actor_id.empty() ? "" : absl::StrCat(" = ", a.actor_id).c_str(), a.source.c_str(),
                a.confidence >= 0 ? absl::StrCat(", confidence ", a.confidence).c_str() : "",
                PlaceText(a.location, a.snippet).c_str());
  }
  if (!inc.actor_mentions.empty()) {
    std::printf("  actors named in the text (mentions, not attributions):\n");
    for (const ActorMention& m : inc.actor_mentions) {
      std::printf("    %s%s%s%s\n", m.name.c_str(), m.id.empty() ? "" : (" " + m.id).c_str(),
                  m.occurrences > 1 ? absl::StrCat(" x", m.occurrences).c_str() : "",
                  PlaceText(m.location, m.snippet).c_str());
    }
  }
  if (!inc.software.empty()) {
    std::printf("  software:\n");
    for (const Software& s : inc.software) {
      std::printf("    %s%s%s%s\n", s.name.c_str(), s.id.empty() ? "" : (" " + s.id).c_str(),
                  s.kind.empty() ? "" : (" (" + s.kind + ")").c_str(),
                  PlaceText(s.location, s.snippet).c_str());
    }
  }
  if (!inc.techniques.empty()) {
    std::printf("  techniques:\n");
    for (const Technique& t : inc.techniques) {
      std::printf("    %-10s %s%s\n", t.id.c_str(), t.name.c_str(),
                  PlaceText(t.location, t.snippet).c_str());
    }
  }
  std::printf("  indicators (%zu):\n", inc.indicators.size());
  for (const Indicator& ind : inc.indicators) {
    std::string line = absl::StrCat("    ", AV(IndicatorTypeName(ind.type)), "  ",
                                    ind.valid() ? ind.value : ind.raw);
    if (ind.derivation != Derivation::kNone) {
      absl::StrAppend(&line, "  (derived: ", AV(DerivationName(ind.derivation)), ")");
    } else if (ind.valid() && ind.raw != ind.value) {
      absl::StrAppend(&line, "  (raw: ", ind.raw, ")");
    }
    if (!ind.error.empty()) absl::StrAppend(&line, "  INVALID: ", ind.error);
    if (!ind.warninglists.empty()) {
      absl::StrAppend(&line, "  known-benign: ", absl::StrJoin(ind.warninglists, ", "));
    }
    if (!ind.to_ids) absl::StrAppend(&line, "  [context]");
    // A report's indicators carry the text around them; JSON paths are shown with --json only.
    if (!ind.snippet.empty()) absl::StrAppend(&line, PlaceText(ind.location, ind.snippet));
    std::printf("%s\n", line.c_str());
  }
  return absl::OkStatus();
}

absl::Status RunStats(GlobalOptions& g) {
  KINSHIP_ASSIGN_OR_RETURN(auto store, OpenStore(g, /*create=*/false));
  KINSHIP_ASSIGN_OR_RETURN(StoreStats s, store->Stats());
  if (g.json) {
    PrintJsonLine({{"path", s.path},
                   {"schema_version", s.schema_version},
                   {"incidents", s.incidents},
                   {"indicators", s.indicators},
                   {"distinct_values", s.distinct_values},
                   {"warninglists", s.warninglists},
                   {"prose_texts", s.prose_texts},
                   {"prose_bytes", s.prose_bytes},
                   {"listings", s.listings}});
  } else {
    std::printf(
        "%s (schema v%d): %zu incidents, %zu indicators, %zu distinct values, %zu "
        "warninglists\n",
        s.path.c_str(), s.schema_version, s.incidents, s.indicators, s.distinct_values,
        s.warninglists);
    if (s.prose_texts > 0) {
      std::printf("prose kept for kb import to read again: %zu texts, %.1f MB\n", s.prose_texts,
                  static_cast<double>(s.prose_bytes) / 1e6);
    }
    if (s.listings > 0) {
      std::printf("reports listed by stored STIX reports, kept for kb import: %zu\n", s.listings);
    }
  }
  return absl::OkStatus();
}

struct PivotArgs {
  std::string value;
  std::string type;
  size_t inside_limit = kMaxValuesInside;
};

// Exact correlation from the store: which incidents hold a value (refanged and canonicalised
// first, so "176.31.112[.]10" finds 176.31.112.10).
absl::Status RunPivot(GlobalOptions& g, const PivotArgs& args) {
  KINSHIP_ASSIGN_OR_RETURN(PivotValue v, ParsePivotValue(args.value, args.type));
  KINSHIP_ASSIGN_OR_RETURN(auto store, OpenStore(g, /*create=*/false));
  KINSHIP_ASSIGN_OR_RETURN(Store::ValueHolders h, store->IncidentsWithValue(v.type, v.canonical));
  KINSHIP_ASSIGN_OR_RETURN(std::vector<NetworkHolders> networks,
                           EnclosingNetworkHolders(*store, v));
  KINSHIP_ASSIGN_OR_RETURN(Store::ValuesInsideNetwork inside,
                           ValuesInsideNetwork(*store, v, args.inside_limit));
  // Whether similarity gives the value weight (over-correlating values weigh nothing); the store
  // is counted only when the holders pass the rule's floor.
  const score::ScoringOptions scoring = ScoringOptionsOf(g);
  size_t limit = score::OverCorrelationLimit(scoring, 0);
  if (limit != SIZE_MAX && h.incident_ids.size() > limit) {
    KINSHIP_ASSIGN_OR_RETURN(size_t n, store->IncidentCount());
    limit = score::OverCorrelationLimit(scoring, n);
  }
  if (g.json) {
    PrintJsonLine(PivotJson(v, h, networks, inside, limit));
    return absl::OkStatus();
  }
  std::printf(
      "%s %s: held by %zu incident%s%s%s\n", std::string(IndicatorTypeName(v.type)).c_str(),
      v.canonical.c_str(), h.incident_ids.size(), h.incident_ids.size() == 1 ? "" : "s",
      h.warninglists.empty()
          ? ""
          : absl::StrCat(" (known-benign: ", absl::StrJoin(h.warninglists, ", "), ")").c_str(),
      h.incident_ids.size() > limit ? absl::StrCat(" (over-correlating: held by more than ", limit,
                                                   ", it weighs nothing in similarity)")
                                          .c_str()
                                    : "");
  for (size_t i = 0; i < h.incident_ids.size(); ++i) {
    std::printf("  %-40s  %-10s  %s\n", h.incident_ids[i].c_str(),
                h.first_seen[i].substr(0, 10).c_str(), h.titles[i].c_str());
  }
  auto print_holders = [](const Store::ValueHolders& nh) {
    for (size_t i = 0; i < nh.incident_ids.size(); ++i) {
      std::printf("  %-40s  %-10s  %s\n", nh.incident_ids[i].c_str(),
                  nh.first_seen[i].substr(0, 10).c_str(), nh.titles[i].c_str());
    }
  };
  for (const NetworkHolders& n : networks) {
    const Store::ValueHolders& nh = n.holders;
    std::printf("inside %s, stated by %zu incident%s\n", n.cidr.c_str(), nh.incident_ids.size(),
                nh.incident_ids.size() == 1 ? "" : "s");
    print_holders(nh);
  }
  // What is stored inside a network: addresses (held in any role) and networks stated inside it.
  const size_t shown = std::min(inside.values.size(), kValuesInsideListed);
  for (size_t k = 0; k < shown; ++k) {
    const Store::ValueInside& x = inside.values[k];
    const size_t n = x.holders.incident_ids.size();
    std::printf("contains %s %s, %s by %zu incident%s\n",
                std::string(IndicatorTypeName(x.type)).c_str(), x.value.c_str(),
                x.type == IndicatorType::kCidr ? "stated" : "held", n, n == 1 ? "" : "s");
    print_holders(x.holders);
  }
  if (inside.values.size() > shown) {
    std::printf("+%zu more inside (--json lists them)\n", inside.values.size() - shown);
  }
  if (inside.truncated) {
    std::printf(
        "more values lie inside than the %zu looked up (a narrower network or a higher "
        "--inside-limit lists them)\n",
        args.inside_limit);
  }
  return absl::OkStatus();
}

void Setup(CLI::App& app, GlobalOptions& g) {
  auto args = std::make_shared<IngestArgs>();
  auto* ingest = app.add_subcommand(
      "ingest", "Load MISP events/feeds, STIX bundles, IOC lists or reports (one transaction)");
  ingest->add_option("paths", args->paths, "Files or folders (a MISP feed folder works)")
      ->required();
  ingest->add_option("--format", args->format, "auto|misp|stix|text|csv|report")
      ->capture_default_str();
  ingest->add_flag("--skip-bad", args->skip_bad,
                   "Skip malformed records with a warning instead of failing the whole ingest");
  ingest->add_flag("--again", args->again,
                   "Replace stored incidents even when read from the same file bytes (by default "
                   "they are left as stored: a feed pulled again writes only what changed)");
  ingest->callback([&g, args] { g.exit_code = Finish(g, RunIngest(g, *args)); });

  auto remove_ids = std::make_shared<std::vector<std::string>>();
  auto* remove = app.add_subcommand(
      "remove",
      "Remove incidents and everything stored under them (one transaction; an unknown id "
      "removes nothing)");
  remove->add_option("ids", *remove_ids, "Incident ids")->required();
  remove->callback([&g, remove_ids] { g.exit_code = Finish(g, RunRemove(g, *remove_ids)); });

  auto* incidents = app.add_subcommand("incidents", "List stored incidents");
  incidents->callback([&g] { g.exit_code = Finish(g, RunIncidents(g)); });

  auto id = std::make_shared<std::string>();
  auto* show = app.add_subcommand("show", "Show one incident with its canonical indicators");
  show->add_option("id", *id, "Incident id")->required();
  show->callback([&g, id] { g.exit_code = Finish(g, RunShow(g, *id)); });

  auto pivot_args = std::make_shared<PivotArgs>();
  auto* pivot = app.add_subcommand(
      "pivot", "Which stored incidents hold a value (exact correlation; defanged values work)");
  pivot->add_option("value", pivot_args->value, "An IP, domain, URL, hash, email, ...")->required();
  pivot->add_option("--type", pivot_args->type, "The value's type when it is ambiguous");
  pivot
      ->add_option("--inside-limit", pivot_args->inside_limit,
                   "For a network: how many stored values inside it to look up at most")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1000000}));
  pivot->callback([&g, pivot_args] { g.exit_code = Finish(g, RunPivot(g, *pivot_args)); });

  auto* stats = app.add_subcommand("stats", "What the store holds");
  stats->callback([&g] { g.exit_code = Finish(g, RunStats(g)); });
}

CommandRegistrar reg(10, &Setup);

}  // namespace
}  // namespace kinship::cli
