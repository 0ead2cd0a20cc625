#include "cli/stix_export.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "kinship/stix_id.h"

namespace kinship::cli {
namespace {

// When kinship's producer identity was defined: its `created`, and that of every actor's
// intrusion set, which is one object in every export.
constexpr char kIdentityCreated[] = "2026-12-01T00:00:00.000Z";

std::string Percent(double p) { return absl::StrFormat("%.0f %%", p * 100); }

// A probability on STIX's 0-100 `confidence` scale; kinship's probabilities are calibrated, so
// they are used as they are.
int StixConfidence(double p) {
  return static_cast<int>(std::lround(std::clamp(p, 0.0, 1.0) * 100));
}

// A number to three digits, as --json gives probabilities.
double Rounded(double x) { return std::round(x * 1000) / 1000; }

// The candidate's strongest evidence, as one sentence's list.
std::string EvidenceText(const attrib::Candidate& c, size_t max_items) {
  std::vector<std::string> items;
  for (const attrib::EvidenceItem& e : c.evidence) {
    if (items.size() == max_items) break;
    if (absl::StartsWith(e.feature, "incident:") && e.feature.substr(9) == e.via) {
      // The similar incident itself: its weight is the pair's "same actor" probability.
      items.push_back(absl::StrFormat("similar incident %s (p=%.2f)", e.via, e.weight));
      continue;
    }
    std::string item = absl::StrCat(std::string(attrib::FamilyName(e.family)), " ", e.feature);
    if (!e.name.empty()) absl::StrAppend(&item, " ", e.name);
    absl::StrAppend(&item, absl::StrFormat(" (weight %.2f", e.weight));
    if (!e.via.empty()) absl::StrAppend(&item, ", via ", e.via);
    item.push_back(')');
    items.push_back(std::move(item));
  }
  if (c.evidence.size() > items.size()) {
    items.push_back(absl::StrCat(c.evidence.size() - items.size(), " more"));
  }
  return absl::StrJoin(items, "; ");
}

// A STIX timestamp for a time as sources state it: a date ("2015-04-01") is its midnight UTC, a
// timestamp ending in Z is kept; anything else gives "" (the property is left out).
std::string StixTimestamp(const std::string& t) {
  const auto digits = [&t](size_t from, size_t n) {
    for (size_t i = from; i < from + n; ++i) {
      if (i >= t.size() || t[i] < '0' || t[i] > '9') return false;
    }
    return true;
  };
  if (!digits(0, 4) || t.size() < 10 || t[4] != '-' || !digits(5, 2) || t[7] != '-' ||
      !digits(8, 2)) {
    return "";
  }
  if (t.size() == 10) return absl::StrCat(t, "T00:00:00Z");
  if (t[10] == 'T' && t.back() == 'Z' && digits(11, 2) && t[13] == ':') return t;
  return "";
}

}  // namespace

StixExport::StixExport(const kb::KnowledgeBase* kb, std::string now)
    : kb_(kb), now_(std::move(now)), identity_(stix::KinshipId("identity", "kinship")) {
  objects_.push_back({{"type", "identity"},
                      {"spec_version", "2.1"},
                      {"id", identity_},
                      {"created", kIdentityCreated},
                      {"modified", kIdentityCreated},
                      {"name", "kinship"},
                      {"identity_class", "system"},
                      {"description",
                       "kinship: similarity and attribution of cyber-threat incidents, with "
                       "calibrated probabilities (ICD 203 terms) and the evidence behind them."}});
}

std::string StixExport::Now() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  return absl::StrFormat("%s.%03dZ", buf, static_cast<int>(ms.count()));
}

StixExport::Subject StixExport::SubjectOf(const std::string& id, const std::string& first_stored,
                                          const std::string& fresh) const {
  if (first_stored.empty()) return {absl::StrCat(now_, "|", fresh, "|", id), now_};
  // The first-stored time is part of the key: an incident removed and stored again is a new
  // object, whose `created` differs. A clock set back cannot make `created` follow `modified`.
  return {absl::StrCat("stored|", first_stored, "|", id), std::min(first_stored, now_)};
}

std::string StixExport::Emit(std::string_view type, const std::string& key,
                             const std::string& created, nlohmann::json fields) {
  std::string id = stix::KinshipId(type, key);
  if (!ids_.insert(id).second) return id;
  fields["type"] = type;
  fields["spec_version"] = "2.1";
  fields["id"] = id;
  fields["created_by_ref"] = identity_;
  fields["created"] = created;
  fields["modified"] = now_;
  objects_.push_back(std::move(fields));
  return id;
}

absl::Status StixExport::NotWithJson(bool json) {
  if (!json) return absl::OkStatus();
  return absl::InvalidArgumentError("--stix writes a STIX bundle: give --stix or --json, not both");
}

std::string StixExport::ActorRef(const attrib::Candidate& c) {
  nlohmann::json set = {{"name", c.name.empty() ? c.actor_id : c.name}};
  const kb::Actor* actor = kb_ != nullptr ? kb_->actor(c.actor_id) : nullptr;
  if (actor != nullptr && !actor->aliases.empty()) set["aliases"] = actor->aliases;
  // An ATT&CK group keeps its G-id and page, so a consumer holding ATT&CK can merge the two.
  if (c.actor_id.size() == 5 && c.actor_id[0] == 'G') {
    set["external_references"] = {
        {{"source_name", "mitre-attack"},
         {"external_id", c.actor_id},
         {"url", absl::StrCat("https://attack.mitre.org/groups/", c.actor_id, "/")}}};
  }
  return Emit("intrusion-set", absl::StrCat("actor|", c.actor_id), kIdentityCreated,
              std::move(set));
}

std::string StixExport::NewIncident(const Subject& s, const std::string& store_id,
                                    const std::string& title) {
  return Emit(
      "incident", s.key, s.created,
      {{"name", title.empty() ? store_id : title},
       {"external_references",
        {{{"source_name", "kinship"},
          {"external_id", store_id},
          {"description", "the incident's id in the kinship store: its source's own id"}}}}});
}

std::string StixExport::AttributedTo(const Subject& s, const std::string& source_ref,
                                     const attrib::Result& r) {
  // Only an answer is asserted: the top candidate of a result that did not abstain. The other
  // candidates, and every candidate of an abstention, are in the note, not relationships.
  if (r.abstained || r.candidates.empty()) return "";
  const attrib::Candidate& top = r.candidates.front();
  // One object per (incident, actor): an export that answers another actor adds another, and
  // the note, one per incident, says which is first now.
  return Emit(
      "relationship", absl::StrCat(s.key, "|attributed-to|", top.actor_id), s.created,
      {{"relationship_type", "attributed-to"},
       {"source_ref", source_ref},
       {"target_ref", ActorRef(top)},
       {"confidence", StixConfidence(top.probability)},
       {"description", absl::StrCat("kinship ranks ", top.name, " (", top.actor_id, ") first of ",
                                    r.candidates.size(), " candidates, with probability ",
                                    Percent(top.probability), " (", top.likelihood,
                                    "). Evidence: ", EvidenceText(top, 8), ".")},
       {"x_kinship_probability", Rounded(top.probability)},
       {"x_kinship_likelihood", top.likelihood}});
}

void StixExport::Note(const Subject& s, const std::string& abstract, std::vector<std::string> lines,
                      const attrib::Result& r, nlohmann::json refs) {
  // The ranking, then the confidence level in sentences of its own.
  if (r.abstained) {
    lines.push_back(absl::StrCat("It abstains: ", r.abstain_reason,
                                 ". The candidates below are listed, not asserted."));
  }
  for (size_t i = 0; i < r.candidates.size(); ++i) {
    const attrib::Candidate& c = r.candidates[i];
    lines.push_back(absl::StrCat(i + 1, ". ", c.name, " (", c.actor_id,
                                 "): ", Percent(c.probability), ", ", c.likelihood, "."));
  }
  lines.push_back(absl::StrCat(
      "Confidence in the evidence: ", std::string(attrib::ConfidenceName(r.confidence)), "."));
  if (!r.supporting_lines.empty()) {
    lines.push_back(absl::StrCat("Independent lines of evidence for the top candidate: ",
                                 absl::StrJoin(r.supporting_lines, ", "), "."));
  }
  if (!r.candidates.empty()) {
    lines.push_back(r.survives_strongest_removed
                        ? "The ranking survives removing the strongest line."
                        : "The ranking does not survive removing the strongest line.");
  }
  if (r.techniques_only) {
    lines.push_back(
        "The top candidate rests on shared ATT&CK techniques alone, which many groups share.");
  }
  Emit("note", absl::StrCat(s.key, "|note"), s.created,
       {{"abstract", abstract},
        {"content", absl::StrJoin(lines, "\n")},
        {"authors", {"kinship"}},
        {"object_refs", std::move(refs)},
        {"x_kinship_abstained", r.abstained},
        {"x_kinship_confidence", std::string(attrib::ConfidenceName(r.confidence))}});
}

void StixExport::Add(const Incident& incident, const attrib::Result& r) {
  // An unstored incident's place in the export is part of its key: a file's incident with a
  // stored one's id, or asked about twice, gives two sets of objects, never one id twice.
  const Subject s = SubjectOf(incident.id, incident.provenance.first_stored,
                              absl::StrCat("incident|", ++results_));
  const std::string title = incident.title.empty() ? incident.id : incident.title;
  const std::string incident_ref = NewIncident(s, incident.id, title);
  nlohmann::json refs = {incident_ref};
  if (std::string rel = AttributedTo(s, incident_ref, r); !rel.empty()) refs.push_back(rel);
  Note(s, absl::StrCat("kinship attribution: ", title),
       {absl::StrCat("kinship's attribution of '", title, "' (", incident.id, ").")}, r,
       std::move(refs));
}

void StixExport::AddSimilar(const Incident& query, const std::vector<score::Match>& matches,
                            const StoredNameReader& name) {
  const std::string fresh = absl::StrCat("similar|", ++results_);
  const Subject q = SubjectOf(query.id, query.provenance.first_stored, fresh);
  const std::string query_title = query.title.empty() ? query.id : query.title;
  const std::string query_ref = NewIncident(q, query.id, query_title);
  for (size_t i = 0; i < matches.size(); ++i) {
    const score::Match& m = matches[i];
    StoredName match = name(m.id);
    if (match.title.empty()) match.title = m.id;
    const Subject t = SubjectOf(m.id, match.first_stored, absl::StrCat(fresh, "|match|", i + 1));
    RelatedTo(q, query_ref, t, NewIncident(t, m.id, match.title), m.comparison,
              absl::StrCat("kinship ranks '", match.title, "' at ", i + 1, " of ", matches.size(),
                           " among the incidents most similar to '", query_title, "'"));
  }
}

void StixExport::AddComparison(const Incident& a, const std::string& b, const StoredName& b_name,
                               const score::Comparison& comparison) {
  const std::string fresh = absl::StrCat("compare|", ++results_);
  const Subject sa = SubjectOf(a.id, a.provenance.first_stored, absl::StrCat(fresh, "|a"));
  const Subject sb = SubjectOf(b, b_name.first_stored, absl::StrCat(fresh, "|b"));
  const std::string a_title = a.title.empty() ? a.id : a.title;
  const std::string shown_b = b_name.title.empty() ? b : b_name.title;
  // One statement each: the order of a call's arguments is unspecified, and the bundle lists
  // the first incident first.
  const std::string a_ref = NewIncident(sa, a.id, a_title);
  const std::string b_ref = NewIncident(sb, b, shown_b);
  RelatedTo(sa, a_ref, sb, b_ref, comparison,
            absl::StrCat("kinship compares '", a_title, "' with '", shown_b, "'"));
}

void StixExport::RelatedTo(const Subject& source, const std::string& source_ref,
                           const Subject& target, const std::string& target_ref,
                           const score::Comparison& c, const std::string& lead) {
  const std::string term(attrib::LikelihoodTerm(c.probability));
  const std::string evidence = c.explanation.ToString(5);
  // One object per ordered pair of stored incidents (`similar` and `compare` give the same one),
  // created when the later of the two was first stored.
  Emit("relationship", absl::StrCat(source.key, "|related-to|", target.key),
       std::max(source.created, target.created),
       {{"relationship_type", "related-to"},
        {"source_ref", source_ref},
        {"target_ref", target_ref},
        {"confidence", StixConfidence(c.probability)},
        {"description",
         absl::StrCat(lead, ", with probability ", Percent(c.probability), " (", term,
                      ") that the two are one actor's work. ",
                      evidence.empty() ? "They share no evidence."
                                       : absl::StrCat("Shared evidence, by family:\n", evidence))},
        {"x_kinship_probability", Rounded(c.probability)},
        {"x_kinship_likelihood", term},
        {"x_kinship_raw_score", Rounded(c.raw)}});
}

void StixExport::AddCampaigns(const std::vector<score::Campaign>& campaigns,
                              const std::vector<attrib::Result>* assessed,
                              const StoredNameReader& name) {
  for (size_t i = 0; i < campaigns.size(); ++i) {
    std::vector<StoredName> names;
    for (const std::string& id : campaigns[i].members) names.push_back(name(id));
    AddCampaign(campaigns[i], names, assessed != nullptr ? &(*assessed)[i] : nullptr);
  }
}

void StixExport::AddCampaign(const score::Campaign& c, const std::vector<StoredName>& names,
                             const attrib::Result* assessed) {
  const size_t n = ++results_;
  // A campaign is new in each export: its members may change from one to the next.
  const Subject s{absl::StrCat(now_, "|campaign|", n), now_};
  const std::string name = absl::StrCat(
      "kinship campaign ", n, ": ", c.members.size(), " incidents",
      names.empty() || names[0].title.empty() ? "" : absl::StrCat(", '", names[0].title, "'"));
  nlohmann::json campaign = {
      {"name", name},
      {"description",
       absl::StrCat(
           "Incidents kinship links as one actor's work (average linkage over calibrated "
           "same-actor probabilities; cohesion ",
           absl::StrFormat("%.2f", c.cohesion), "). What binds them: ", c.binding.ToString(3),
           c.actor.empty() ? "" : "Stated by its members: ",
           c.actor.empty() ? ""
                           : absl::StrCat(c.actor, " (", c.actor_votes, " of ",
                                          c.attributed_members, " members that state an actor)."))},
      {"x_kinship_cohesion", Rounded(c.cohesion)}};
  if (std::string t = StixTimestamp(c.first_seen); !t.empty()) campaign["first_seen"] = t;
  if (std::string t = StixTimestamp(c.last_seen); !t.empty()) campaign["last_seen"] = t;
  const std::string campaign_ref = Emit("campaign", s.key, s.created, std::move(campaign));
  nlohmann::json refs = {campaign_ref};
  // Each member an incident, related to the campaign (STIX 2.1 names no relationship from an
  // incident; `related-to` is the one every pair of objects may have).
  for (size_t m = 0; m < c.members.size(); ++m) {
    const StoredName member = m < names.size() ? names[m] : StoredName();
    const std::string ref = NewIncident(
        SubjectOf(c.members[m], member.first_stored, absl::StrCat("campaign|", n, "|member")),
        c.members[m], member.title);
    Emit("relationship", absl::StrCat(s.key, "|member|", c.members[m], "|in"), s.created,
         {{"relationship_type", "related-to"},
          {"source_ref", ref},
          {"target_ref", campaign_ref},
          {"description", absl::StrCat("a member of ", name)}});
  }
  if (assessed == nullptr) return;
  if (std::string rel = AttributedTo(s, campaign_ref, *assessed); !rel.empty()) {
    refs.push_back(rel);
  }
  Note(s, absl::StrCat("kinship attribution: ", name),
       {absl::StrCat("kinship's attribution of ", name,
                     ", its members' own stated actors left out.")},
       *assessed, std::move(refs));
}

nlohmann::json StixExport::Bundle() const {
  return {{"type", "bundle"},
          {"id", stix::KinshipId("bundle", absl::StrCat(now_, "|bundle"))},
          {"objects", objects_}};
}

}  // namespace kinship::cli
