// Knowledge-base internals shared by the parsers, the builder and the store adapter.
//
// Data flow: a file is parsed into a ParsedSource (ATT&CK entities, or galaxy clusters, NOT yet
// merged); the store keeps ParsedSources per (kind, name); BuildKnowledgeBase merges every source
// into one KnowledgeBase with its name index. Import and Load both go through the builder, so the
// merge is testable in memory and re-importing one source re-merges it with the others.
#ifndef KINSHIP_KB_INTERNAL_H_
#define KINSHIP_KB_INTERNAL_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "kinship/kb.h"
#include "kinship/status.h"

namespace kinship::kb::internal {

// One MISP galaxy cluster, as given, with the ATT&CK links it states.
struct GalaxyCluster {
  std::string galaxy;  // the cluster file's type: "threat-actor", "mitre-intrusion-set", "malpedia"
  std::string uuid;
  std::string value;  // name ("APT28", "Ajax Security Team - G0130")
  std::string description;
  std::vector<std::string> synonyms;
  std::string sponsor;  // cfr-suspected-state-sponsor, else meta.country
  std::vector<std::string> victims;
  std::vector<std::string> sectors;
  std::vector<std::string> attack_ids;     // G/S ids from external_id, value, synonyms, refs
  std::vector<std::string> related_uuids;  // related[].dest-uuid (ATT&CK STIX uuids)
};

// What one file contributes, before merging.
struct ParsedSource {
  SourceInfo info;
  // ATT&CK: entities with relationships applied (ids already followed through revoked-by).
  std::vector<Actor> actors;
  std::vector<Campaign> campaigns;
  std::vector<Software> software;
  std::vector<Technique> techniques;
  std::vector<std::pair<std::string, std::string>> revoked;  // revoked id -> live id (any type)
  size_t relationships = 0;
  // Galaxy.
  std::vector<GalaxyCluster> clusters;
};

// Detects the kind of `json` (ATT&CK STIX bundle or MISP galaxy cluster file) and parses it.
// Errors: kInvalidArgument naming `file` and the place (line:col or JSON path);
// kResourceExhausted for a named limit.
absl::StatusOr<ParsedSource> ParseKbFile(std::string_view json, std::string_view file);

// Merges sources into a KnowledgeBase (ATT&CK first, then galaxies; see docs/kb.md).
KnowledgeBase BuildKnowledgeBase(std::vector<ParsedSource> sources);

// Name keys for the index. Key1: ASCII-lowercased, every non-alphanumeric ASCII byte dropped
// ("APT 28" -> "apt28", "X-Agent" -> "xagent"). Key2: key1 of the words left after dropping
// generic words ("Sofacy Group" -> "sofacy", "Operation Dream Job" -> "dreamjob"); empty when
// it equals key1 or nothing is left.
std::string NameKey(std::string_view name);
std::string LooseNameKey(std::string_view name);

// Serialisation of a ParsedSource into (type, id, data) rows and back (kb_record table).
struct Record {
  std::string type;  // "actor", "campaign", "software", "technique", "revoked", "cluster", "count"
  std::string id;
  std::string name;
  std::string data;
};
std::vector<Record> ToRecords(const ParsedSource& source);
// Errors: kDataLoss for a record that does not decode.
absl::Status AddRecord(const Record& record, ParsedSource& into);

}  // namespace kinship::kb::internal

#endif  // KINSHIP_KB_INTERNAL_H_
