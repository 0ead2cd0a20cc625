// The knowledge base: actors (ATT&CK groups merged with MISP galaxy threat actors), campaigns,
// software and techniques, with alias resolution. Loaded from files the user downloads (the
// ATT&CK STIX bundle, MISP galaxy clusters); persisted in the store; read into memory for queries.
//
// Example:
//   KINSHIP_ASSIGN_OR_RETURN(auto kb, KnowledgeBase::Load(store));
//   for (const kb::Match& m : kb.Resolve("Fancy Bear", kb::EntityType::kActor)) ...  // G0007
//   const kb::Actor* a = kb.actor("G0007");
//
// KnowledgeBase is immutable after Load/Build; all const methods are thread-safe. Pointers it
// returns are valid for the KnowledgeBase's lifetime.
#ifndef KINSHIP_KB_H_
#define KINSHIP_KB_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kinship/model.h"
#include "kinship/status.h"

namespace kinship {
class Store;

namespace kb {

enum class EntityType { kActor, kCampaign, kSoftware, kTechnique };
std::string_view EntityTypeName(EntityType t);  // "actor", "campaign", "software", "technique"

struct Actor {
  std::string id;    // ATT&CK group id ("G0007"), or the galaxy cluster uuid for galaxy-only actors
  std::string name;  // preferred name ("APT28")
  std::vector<std::string> aliases;  // every other name it is known by (ATT&CK + galaxy synonyms)
  std::string stix_id;               // intrusion-set--... when from ATT&CK
  std::string description;
  std::string sponsor_country;  // suspected state sponsor (galaxy), ISO code or name, may be empty
  std::vector<std::string> victims;  // suspected victims (galaxy cfr-suspected-victims)
  std::vector<std::string> target_sectors;
  std::vector<std::string> technique_ids;  // ATT&CK ids it uses (live, revoked ones followed)
  std::vector<std::string> software_ids;   // ATT&CK S-ids it uses
  std::vector<std::string> campaign_ids;   // C-ids attributed to it
  bool revoked = false;
  bool deprecated = false;
};

struct Campaign {
  std::string id;  // "C0024"
  std::string name;
  std::vector<std::string> aliases;
  std::string first_seen, last_seen;       // ISO dates, may be empty
  std::vector<std::string> actor_ids;      // attributed-to groups
  std::vector<std::string> technique_ids;  // uses
  std::vector<std::string> software_ids;   // uses
};

struct Software {
  std::string id;  // "S0161"
  std::string name;
  std::string kind;                  // "malware" or "tool"
  std::vector<std::string> aliases;  // x_mitre_aliases + malpedia synonyms
  std::vector<std::string> technique_ids;
};

struct Technique {
  std::string id;  // "T1566" or "T1566.001"
  std::string name;
  std::string parent_id;             // for a sub-technique, else empty
  std::vector<std::string> tactics;  // kill-chain phase names ("initial-access")
  bool revoked = false;
  bool deprecated = false;
  std::string revoked_by;  // live id it was replaced by, when revoked
};

// One answer to a name lookup.
struct Match {
  EntityType type;
  std::string id;
  std::string name;          // the entity's preferred name
  std::string matched;       // how: "id", "name", "alias", "synonym", "variant"
  std::string matched_text;  // the name or alias that matched
  bool ambiguous = false;    // the query names several entities of this type
  double score = 1.0;        // 1 exact; lower for variant matches; results sorted by it
};

// Which releases the KB was built from, for provenance of every answer.
struct SourceInfo {
  std::string kind;     // "attack", "misp-galaxy"
  std::string name;     // "enterprise-attack", "threat-actor"
  std::string version;  // "18.1", galaxy version
  std::string file;
  std::string sha256;
};

class KnowledgeBase {
 public:
  // Reads the KB the store holds (empty KB if none was imported). Errors: kDataLoss for a
  // damaged KB table.
  static absl::StatusOr<KnowledgeBase> Load(Store& store);

  KnowledgeBase();
  ~KnowledgeBase();
  KnowledgeBase(KnowledgeBase&&) noexcept;
  KnowledgeBase& operator=(KnowledgeBase&&) noexcept;

  bool empty() const;

  // Name or id lookup, tolerant of case, spaces, punctuation and common variants ("APT 28",
  // "apt-28", "Fancy-Bear", "XAgent"). Revoked ids resolve to their live replacement. With
  // `type`, only that kind. Best first; empty when nothing matches.
  std::vector<Match> Resolve(std::string_view name,
                             std::optional<EntityType> type = std::nullopt) const;

  // Lookup by exact id (G/C/S/T id or galaxy uuid); nullptr when absent.
  const Actor* actor(std::string_view id) const;
  const Campaign* campaign(std::string_view id) const;
  const Software* software(std::string_view id) const;
  const Technique* technique(std::string_view id) const;

  const std::vector<Actor>& actors() const;
  const std::vector<Campaign>& campaigns() const;
  const std::vector<Software>& software_list() const;
  const std::vector<Technique>& techniques() const;
  const std::vector<SourceInfo>& sources() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// A stated actor the KB knows only as software. Unit 42's playbooks name the intrusion set after
// the malware when they name no actor ("HermeticWiper", S0697): such an attribution says which
// tool was used, not who used it, and would make every incident sharing the tool look attributed
// to an "actor" of that name. It is moved to the incident's software (unless listed there
// already), with a snippet saying so. Only a name the KB resolves with score 1 (the software's
// own name or id; an alias, a galaxy synonym or a variant scores less), unambiguously, as
// software, and that resolves as no actor at all (not even a variant), counts. Ingest (`kinship
// ingest`, `--file` queries) and kb::Import's re-linking apply it. Returns whether anything moved.
bool MoveSoftwareOutOfAttributions(const KnowledgeBase& kb, Incident& incident);

// Summary of one import.
struct ImportSummary {
  std::vector<SourceInfo> sources;
  size_t actors = 0, campaigns = 0, software = 0, techniques = 0, relationships = 0;
  size_t incidents_relinked = 0;
};

// Imports ATT&CK bundles and MISP galaxy cluster files (detected by content) into the store,
// replacing what an earlier import of the same source kind held, and re-links stored incidents
// to the KB (their attributions, techniques and software; their kept prose and titles read
// again with its names), all in ONE transaction: on any error the store, KB included, is as it
// was. Errors: kInvalidArgument with file and JSON path for a malformed or truncated file.
// `progress`, when given, is told each step of the re-linking as it starts (done 0) and after
// each stored incident it reads or writes back: `done` of `total`.
using ImportProgress = std::function<void(std::string_view step, size_t done, size_t total)>;
absl::StatusOr<ImportSummary> Import(Store& store, const std::vector<std::string>& paths,
                                     const ImportProgress& progress = {});

}  // namespace kb
}  // namespace kinship

#endif  // KINSHIP_KB_H_
