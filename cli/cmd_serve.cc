// kinship serve: the analysis commands over HTTP. The store's incidents are indexed once, as
// `kinship attribute` indexes them (similarity engine, naming style, knowledge-base profiles),
// and kept in memory, so a query costs milliseconds instead of a rebuild of the index. When
// another process commits to the store (`kinship ingest`, `remove`), the next request brings the
// indexes up to date from the store's journal of writes before answering (Analysis::CatchUp), or
// indexes the store again when the journal cannot (a KB import, new warninglists); the
// naming-style classifier, when it must be trained again, is trained on a thread of its own while
// requests that do not use it are answered. Read-only: the server never writes to the store.
// Every answer is the JSON object the matching CLI command prints with --json (cli/views.h,
// cli/analysis.h), or with stix=true the STIX 2.1 bundle its --stix prints (cli/stix_export.h).
//
// The HTTP layer is cpp-httplib (Debian libcpp-httplib-dev).
#include <httplib.h>
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <tuple>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/analysis.h"
#include "cli/command.h"
#include "cli/stix_export.h"
#include "cli/unstored.h"
#include "cli/views.h"
#include "kinship/limits.h"

namespace kinship::cli {
namespace {

// A posted file larger than this is refused (413) before it is read into memory: one request
// cannot make the server hold a gigabyte. A prose report or a MISP event is far smaller.
inline constexpr size_t kDefaultMaxBody = size_t{64} << 20;

struct ServeArgs {
  std::string host = "127.0.0.1";
  int port = 8080;
  size_t max_body = kDefaultMaxBody;
  AttributionSettings settings;
};

using Json = nlohmann::json;

// The indexed store, brought up to date (or indexed again) when the store has changed since
// (PRAGMA data_version).
class Service {
 public:
  Service(const GlobalOptions& g, const ServeArgs& args) : g_(g), args_(args) {}
  ~Service() {
    // A training cannot be interrupted (liblinear): it ends, and finds nothing to install.
    if (trainer_.joinable()) {
      Progress(g_, "waiting for the naming-style classifier's training to end", /*force=*/true);
      trainer_.join();
    }
  }

  absl::Status Index() {
    std::unique_lock w(mu_);
    return IndexLocked();
  }

  // Runs `fn` on an index of the store as it is now (indexing it again first if another
  // connection committed a change). `fn` runs under a shared lock: many at once. With `style`
  // (`fn` attributes), it waits first for the naming-style classifier of the store as it is when
  // that is being trained again after a catch-up (StartTraining); other requests do not wait.
  absl::StatusOr<Json> Run(const std::function<absl::StatusOr<Json>(Analysis&)>& fn,
                           bool style = false) {
    for (;;) {
      KINSHIP_RETURN_IF_ERROR(Refresh());
      {
        std::shared_lock r(mu_);
        if (!style || !analysis_->style_pending()) return fn(*analysis_);
      }
      std::unique_lock t(train_mu_);
      trained_.wait(t, [this] { return !training_; });
      // Then the store as it is now again: the training may have ended on an older state.
    }
  }

  // The store's connection answers one request at a time.
  template <typename F>
  auto WithStore(F&& fn) {
    std::lock_guard s(store_mu_);
    return fn(analysis_->store());
  }

  // Naming texts of the indexed incidents from memory (Analysis::Naming); a store read, on the
  // one connection, only for an id indexed after them (none while the index is current).
  NamingReader Naming(const Analysis& a) {
    return a.Naming([this](const std::string& id) {
      return WithStore([&](Store& s) { return StoreNaming(s)(id); });
    });
  }

  // The KB and the warninglists' matcher of the indexed store, for posted files; called inside
  // Run (its shared lock held). Built with each index, not per request.
  const UnstoredContext& Unstored() const { return *unstored_; }

  // What is indexed, when and how large; called inside Run (its shared lock held).
  Json Status(Analysis& a) const {
    const score::IndexStats st = a.index().Stats();
    return {{"store", a.store().path()},
            {"incidents", st.incidents},
            {"features", st.features},
            {"postings", st.postings},
            {"index_memory_bytes", st.memory_bytes},
            {"naming_memory_bytes", a.naming_cache() ? a.naming_cache()->bytes() : 0},
            {"knowledge_base", a.kb() != nullptr},
            {"indexed_at", indexed_at_},
            {"index_seconds", index_seconds_},
            {"indexings", indexings_},
            {"catch_ups", catch_ups_},
            {"catch_up_seconds", catch_up_seconds_},
            {"style_current", !a.style_pending()},
            {"style_trainings", style_trainings_},
            {"style_training_seconds", style_training_seconds_}};
  }

  // Campaigns of the indexed store (called inside Run): computed once per index and setting,
  // since linking every incident costs a Similar per incident (seconds on 10,000 incidents).
  // The JSON is made per request from the kept campaigns, at most `max_items` binding items per
  // family (0: all); with `stix`, the STIX bundle of `kinship campaigns --stix` instead.
  absl::StatusOr<Json> Campaigns(Analysis& a, double threshold, score::Linkage linkage,
                                 bool attribute, size_t max_items, bool stix) {
    std::lock_guard c(campaigns_mu_);
    const std::tuple<double, score::Linkage, bool> key(threshold, linkage, attribute);
    auto it = campaigns_.find(key);
    if (it == campaigns_.end()) {
      KINSHIP_ASSIGN_OR_RETURN(
          AssessedCampaigns found,
          FindAssessedCampaigns(a, {.threshold = threshold, .linkage = linkage}, attribute,
                                [this](const std::string& id, Store::Detail detail) {
                                  return WithStore(
                                      [&](Store& s) { return s.GetIncident(id, detail); });
                                }));
      it = campaigns_.emplace(key, std::move(found)).first;
    }
    const AssessedCampaigns& found = it->second;
    if (stix) {
      // The members' titles name their incidents, as the CLI's export names them.
      absl::flat_hash_map<std::string, StoredName> names;
      if (!found.campaigns.empty()) {
        KINSHIP_ASSIGN_OR_RETURN(std::vector<IncidentSummary> list,
                                 WithStore([](Store& s) { return s.ListIncidents(); }));
        for (IncidentSummary& s : list) {
          names.emplace(s.id, StoredName{std::move(s.title), std::move(s.first_stored)});
        }
      }
      StixExport bundle(a.kb(), StixExport::Now());
      bundle.AddCampaigns(found.campaigns, attribute ? &found.assessed : nullptr,
                          [&names](const std::string& id) {
                            auto t = names.find(id);
                            return t == names.end() ? StoredName() : t->second;
                          });
      return bundle.Bundle();
    }
    Json list = Json::array();
    for (size_t i = 0; i < found.campaigns.size(); ++i) {
      list.push_back(CampaignJson(found, i, max_items));
    }
    return Json{{"threshold", threshold},
                {"linkage", LinkageName(linkage)},
                {"campaigns", std::move(list)}};
  }

  // Indexes the store again if another connection has committed to it since it was indexed.
  absl::Status Refresh() {
    {
      std::shared_lock r(mu_);
      KINSHIP_ASSIGN_OR_RETURN(int64_t v, WithStore([](Store& s) { return s.DataVersion(); }));
      if (v == version_) return absl::OkStatus();
    }
    std::unique_lock w(mu_);
    // Another request may have re-indexed meanwhile (its new connection starts a new count).
    KINSHIP_ASSIGN_OR_RETURN(int64_t v, WithStore([](Store& s) { return s.DataVersion(); }));
    if (v == version_) return absl::OkStatus();
    if (current_) {
      // From the store's journal of writes: seconds where indexing the store whole takes a
      // minute at 100,000 incidents, and no snapshot on disk is needed.
      const auto start = std::chrono::steady_clock::now();
      current_ = false;  // until it is brought up to date or indexed again
      absl::StatusOr<CaughtUp> caught = analysis_->CatchUp();
      if (caught.ok()) {
        Renewed(v, start, catch_ups_, catch_up_seconds_);
        if (analysis_->style_pending()) StartTraining();
        Progress(g_,
                 absl::StrCat("the store has changed: ", caught->left.size(),
                              " incidents taken out of the index and ", caught->added,
                              " added, in ", absl::StrFormat("%.2f", catch_up_seconds_), " s"),
                 /*force=*/true);
        return absl::OkStatus();
      }
      Progress(g_,
               absl::StrCat("the store has changed and the index cannot be brought up to date (",
                            caught.status().message(), "): indexing it again"),
               /*force=*/true);
    } else {
      Progress(g_, "the store has changed: indexing it again", /*force=*/true);
    }
    return IndexLocked();
  }

 private:
  absl::Status IndexLocked() {
    const auto start = std::chrono::steady_clock::now();
    KINSHIP_ASSIGN_OR_RETURN(std::unique_ptr<Analysis> a,
                             Analysis::Load(g_, args_.settings, {.naming = true}));
    KINSHIP_ASSIGN_OR_RETURN(int64_t v, a->store().DataVersion());
    KINSHIP_ASSIGN_OR_RETURN(UnstoredContext unstored, UnstoredContext::Of(a->store(), a->kb()));
    {
      std::lock_guard s(store_mu_);
      analysis_ = std::move(a);
      unstored_ = std::move(unstored);
    }
    Renewed(v, start, indexings_, index_seconds_);
    return absl::OkStatus();
  }

  // Trains the naming-style classifier of the store as it is on a thread of its own, unless one
  // is training already (it then trains again when it ends on an older state than the index's).
  // Called with mu_ held exclusively.
  void StartTraining() {
    std::lock_guard t(train_mu_);
    if (training_) return;
    if (trainer_.joinable()) trainer_.join();  // it has ended: training_ is false
    training_ = true;
    trainer_ = std::thread([this] { Train(); });
  }

  // The trainer: reads the attributed incidents on a connection of its own (the server's one
  // answers requests meanwhile), trains, and installs the result if the index still stands for
  // the state it read. If the index was caught up meanwhile, it trains again; if the store was
  // written after the index, it stops, and the catch-up of the next request starts it again. An
  // error (other than a write meanwhile) makes the next request index the store whole.
  void Train() {
    for (;;) {
      const auto start = std::chrono::steady_clock::now();
      std::string target;
      {
        std::shared_lock r(mu_);
        target = analysis_->key();
      }
      absl::StatusOr<TrainedStyle> trained = [this]() -> absl::StatusOr<TrainedStyle> {
        KINSHIP_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, OpenStore(g_, /*create=*/false));
        return TrainStyle(g_, *store);
      }();
      std::unique_lock w(mu_);
      if (analysis_->style_pending()) {
        if (trained.ok() && trained->key == analysis_->key()) {
          analysis_->SetStyle(std::move(trained->style));
          ++style_trainings_;
          style_training_seconds_ =
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
          Progress(g_,
                   absl::StrCat("naming-style classifier trained again in ",
                                absl::StrFormat("%.2f", style_training_seconds_), " s"),
                   /*force=*/true);
        } else if (!trained.ok() &&
                   trained.status().code() != absl::StatusCode::kFailedPrecondition) {
          Progress(g_,
                   absl::StrCat("the naming-style classifier cannot be trained again (",
                                trained.status().message(), "): the store will be indexed again"),
                   /*force=*/true);
          current_ = false;
          version_ = -1;  // no data version: the next request indexes the store whole
        } else if (analysis_->key() != target) {
          continue;  // caught up meanwhile: train for the index as it is now
        }
      }
      // Under mu_, so that a catch-up either sees the training on (and this loop trains for it)
      // or starts a new one.
      {
        std::lock_guard t(train_mu_);
        training_ = false;
      }
      trained_.notify_all();
      return;
    }
  }

  // The indexes stand for the store at data version `v`, since an indexing or a catch-up that
  // started at `start` (its `count` and `seconds` in /v1/status); called with mu_ held
  // exclusively, so no campaigns computation runs.
  void Renewed(int64_t v, std::chrono::steady_clock::time_point start, size_t& count,
               double& seconds) {
    {
      std::lock_guard c(campaigns_mu_);  // the old index's campaigns
      campaigns_.clear();
    }
    version_ = v;
    current_ = true;
    ++count;
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    char when[32];
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    indexed_at_ = when;
  }

  const GlobalOptions& g_;
  ServeArgs args_;
  std::shared_mutex mu_;  // exclusive while (re-)indexing
  std::mutex store_mu_;
  std::mutex campaigns_mu_;  // one campaigns computation at a time; guards campaigns_
  std::map<std::tuple<double, score::Linkage, bool>, AssessedCampaigns>
      campaigns_;  // of the current index
  std::unique_ptr<Analysis> analysis_;
  std::optional<UnstoredContext> unstored_;  // with analysis_
  int64_t version_ = 0;
  // False from the start of a catch-up until it or an indexing succeeds: analysis_ may then be
  // half brought up to date, and only a new indexing replaces it.
  bool current_ = false;
  size_t indexings_ = 0, catch_ups_ = 0;
  double index_seconds_ = 0, catch_up_seconds_ = 0;
  // The naming-style trainer (StartTraining); training_ and the thread under train_mu_, the rest
  // under mu_. Lock order: mu_, then train_mu_.
  std::mutex train_mu_;
  std::condition_variable trained_;  // training_ became false
  bool training_ = false;
  std::thread trainer_;
  size_t style_trainings_ = 0;
  double style_training_seconds_ = 0;
  std::string indexed_at_;
};

int HttpStatus(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kNotFound:
      return 404;
    default:
      return 500;
  }
}

void SetJson(httplib::Response& res, const Json& body,
             const char* media_type = "application/json") {
  res.set_content(body.dump() + "\n", media_type);
}

Json ErrorJson(std::string_view message, std::string_view code) {
  return {{"error", std::string(message)}, {"code", std::string(code)}};
}

// `stix`: a successful body is a STIX bundle (its media type); errors are JSON as always.
void Reply(httplib::Response& res, const absl::StatusOr<Json>& body, bool stix = false) {
  if (body.ok()) return SetJson(res, *body, stix ? kStixMediaType : "application/json");
  res.status = HttpStatus(body.status());
  SetJson(res,
          ErrorJson(SV(body.status().message()), absl::StatusCodeToString(body.status().code())));
}

absl::StatusOr<std::string> Param(const httplib::Request& req, const char* name) {
  if (!req.has_param(name)) {
    return absl::InvalidArgumentError(absl::StrCat("missing query parameter '", name, "'"));
  }
  return req.get_param_value(name);
}

absl::StatusOr<size_t> SizeParam(const httplib::Request& req, const char* name, size_t def,
                                 size_t min = 1, size_t max = 1000) {
  if (!req.has_param(name)) return def;
  size_t v = 0;
  if (!absl::SimpleAtoi(req.get_param_value(name), &v) || v < min || v > max) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", name, "' must be a number in ", min, "..", max));
  }
  return v;
}

// A probability parameter in [low, 1] (`threshold`: as `kinship campaigns --threshold`), `def`
// when absent.
absl::StatusOr<double> ProbabilityParam(const httplib::Request& req, const char* name, double def,
                                        double low = 0.0) {
  if (!req.has_param(name)) return def;
  double v = 0;
  if (!absl::SimpleAtod(req.get_param_value(name), &v) || !(v >= low && v <= 1.0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", name, "' must be a probability in ", low, "..1"));
  }
  return v;
}

// How linked incidents are grouped (as `kinship campaigns --linkage`), default average.
absl::StatusOr<score::Linkage> LinkageParam(const httplib::Request& req) {
  if (!req.has_param("linkage")) return score::Linkage::kAverage;
  std::optional<score::Linkage> linkage = ParseLinkage(req.get_param_value("linkage"));
  if (!linkage) return absl::InvalidArgumentError("'linkage' must be average or single");
  return *linkage;
}

absl::StatusOr<bool> BoolParam(const httplib::Request& req, const char* name, bool def) {
  if (!req.has_param(name)) return def;
  const std::string v = req.get_param_value(name);
  if (v == "true" || v == "1") return true;
  if (v == "false" || v == "0") return false;
  return absl::InvalidArgumentError(absl::StrCat("'", name, "' must be true or false"));
}

// Whether the answer is asked for as a STIX bundle (stix=true); a value that is not a boolean
// is answered with its 400 here, and std::nullopt returned.
std::optional<bool> StixParam(const httplib::Request& req, httplib::Response& res) {
  absl::StatusOr<bool> stix = BoolParam(req, "stix", false);
  if (stix.ok()) return *stix;
  Reply(res, stix.status());
  return std::nullopt;
}

const Json& Endpoints() {
  static const Json kEndpoints = {
      {"GET /v1/status", "what is indexed, when, and how large"},
      {"GET /v1/incident?id=ID", "one incident (kinship show --json)"},
      {"GET /v1/similar?id=ID&top=K&stix=true|false",
       "most similar incidents, explained (kinship similar)"},
      {"GET /v1/compare?a=ID&b=ID&stix=true|false",
       "one pair scored and explained (kinship compare)"},
      {"GET /v1/attribute?id=ID&stix=true|false",
       "ranked actors, likelihood, confidence (kinship attribute; stix=true: its --stix bundle)"},
      {"POST /v1/attribute?format=F&name=N&stix=true|false",
       "the posted file's incidents attributed, not stored (kinship attribute --file)"},
      {"GET /v1/pivot?value=V&type=T", "incidents holding a value (kinship pivot)"},
      {"GET /v1/campaigns?threshold=P&linkage=average|single&attribution=true|false&items=N&"
       "stix=true|false",
       "linked incidents as campaigns, each attributed (kinship campaigns)"}};
  return kEndpoints;
}

void Routes(httplib::Server& svr, Service& service, size_t max_body) {
  // httplib's own errors (no such path, a method other than GET, a body over the limit) get a
  // JSON body too.
  svr.set_payload_max_length(max_body);
  svr.set_error_handler(httplib::Server::HandlerWithResponse(
      [max_body](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        if (res.status == 404) {
          SetJson(res, ErrorJson(absl::StrCat("no endpoint ", req.method, " ", req.path,
                                              " (GET / lists them)"),
                                 "NOT_FOUND"));
        } else if (res.status == 413) {
          SetJson(res, ErrorJson(absl::StrCat("the request body is over the server's limit of ",
                                              max_body, " bytes (kinship serve --max-body)"),
                                 "RESOURCE_EXHAUSTED"));
        } else {
          SetJson(res, ErrorJson(absl::StrCat("HTTP ", res.status), "INVALID_ARGUMENT"));
        }
        return httplib::Server::HandlerResponse::Handled;
      }));
  svr.Get("/", [](const httplib::Request&, httplib::Response& res) {
    Reply(res, Json({{"service", "kinship"}, {"endpoints", Endpoints()}}));
  });
  svr.Get("/v1/status", [&service](const httplib::Request&, httplib::Response& res) {
    Reply(res, service.Run([&](Analysis& a) -> absl::StatusOr<Json> { return service.Status(a); }));
  });
  svr.Get("/v1/incident", [&service](const httplib::Request& req, httplib::Response& res) {
    Reply(res, service.Run([&](Analysis&) -> absl::StatusOr<Json> {
      KINSHIP_ASSIGN_OR_RETURN(std::string id, Param(req, "id"));
      KINSHIP_ASSIGN_OR_RETURN(Incident inc,
                               service.WithStore([&](Store& s) { return s.GetIncident(id); }));
      return IncidentJson(inc);
    }));
  });
  svr.Get("/v1/similar", [&service](const httplib::Request& req, httplib::Response& res) {
    const std::optional<bool> stix = StixParam(req, res);
    if (!stix) return;
    auto similar = [&](Analysis& a) -> absl::StatusOr<Json> {
      KINSHIP_ASSIGN_OR_RETURN(std::string id, Param(req, "id"));
      KINSHIP_ASSIGN_OR_RETURN(size_t top, SizeParam(req, "top", 10));
      KINSHIP_ASSIGN_OR_RETURN(double min_probability,
                               ProbabilityParam(req, "min_probability", 0.0));
      KINSHIP_ASSIGN_OR_RETURN(std::vector<score::Match> m, a.index().Similar(id, top));
      DropLessProbable(m, min_probability);
      NameKbItems(a.kb(), m);
      if (*stix) {
        // The titles name the incidents, read as `similar --stix` reads them.
        IncidentGetter get = [&service](const std::string& i, Store::Detail detail) {
          return service.WithStore([&](Store& s) { return s.GetIncident(i, detail); });
        };
        KINSHIP_ASSIGN_OR_RETURN(Incident query, get(id, Store::Detail::kNaming));
        StixExport bundle(a.kb(), StixExport::Now());
        bundle.AddSimilar(query, m, StoredNamesOf(get));
        return bundle.Bundle();
      }
      const std::vector<NamingSourceMap> names = NamingSourcesOf(service.Naming(a), id, m);
      return SimilarJson(a.index(), id, m, &names);
    };
    Reply(res, service.Run(similar), *stix);
  });
  svr.Get("/v1/compare", [&service](const httplib::Request& req, httplib::Response& res) {
    const std::optional<bool> stix = StixParam(req, res);
    if (!stix) return;
    auto compare = [&](Analysis& a) -> absl::StatusOr<Json> {
      KINSHIP_ASSIGN_OR_RETURN(std::string x, Param(req, "a"));
      KINSHIP_ASSIGN_OR_RETURN(std::string y, Param(req, "b"));
      KINSHIP_ASSIGN_OR_RETURN(score::Comparison c, a.index().Compare(x, y));
      NameKbItems(a.kb(), c.explanation);
      if (*stix) {
        // The two incidents read as `compare --stix` reads them.
        IncidentGetter get = [&service](const std::string& i, Store::Detail detail) {
          return service.WithStore([&](Store& s) { return s.GetIncident(i, detail); });
        };
        KINSHIP_ASSIGN_OR_RETURN(Incident first, get(x, Store::Detail::kNaming));
        StixExport bundle(a.kb(), StixExport::Now());
        bundle.AddComparison(first, y, StoredNamesOf(get)(y), c);
        return bundle.Bundle();
      }
      const NamingSourceMap names = NamingSourcesOf(service.Naming(a), x, y, c.explanation);
      return CompareJson(x, y, c, &names);
    };
    Reply(res, service.Run(compare), *stix);
  });
  svr.Get("/v1/attribute", [&service](const httplib::Request& req, httplib::Response& res) {
    const std::optional<bool> stix = StixParam(req, res);
    if (!stix) return;
    auto attribute = [&](Analysis& a) -> absl::StatusOr<Json> {
      KINSHIP_ASSIGN_OR_RETURN(std::string id, Param(req, "id"));
      // What attribution reads (no description, raw forms or locations), as the CLI reads it.
      KINSHIP_ASSIGN_OR_RETURN(Incident inc, service.WithStore([&](Store& s) {
        return s.GetIncident(id, Store::Detail::kAnalysis);
      }));
      attrib::Result r = a.Attribute(inc);
      NameKbItems(a.kb(), r);
      if (*stix) {
        StixExport bundle(a.kb(), StixExport::Now());
        bundle.Add(inc, r);
        return bundle.Bundle();
      }
      const EvidenceSources sources = EvidenceSourcesOf(service.Naming(a), inc, r);
      Json j = {{"incident", r.incident}};
      j.update(AttributionJson(r, &sources));
      return j;
    };
    Reply(res, service.Run(attribute, /*style=*/true), *stix);
  });
  // The incidents of a posted file (any format ingest reads), attributed without storing them:
  // `kinship attribute --file`'s lines as "results", with the reading's warnings. With
  // stix=true, one STIX bundle of them; the warnings are then only counted, in the
  // X-Kinship-Diagnostics header (the JSON answer lists them).
  svr.Post("/v1/attribute", [&service](const httplib::Request& req, httplib::Response& res) {
    const std::optional<bool> stix = StixParam(req, res);
    if (!stix) return;
    auto attribute = [&](Analysis& a) -> absl::StatusOr<Json> {
      const std::string name = req.has_param("name") ? req.get_param_value("name") : "request";
      const std::string format =
          req.has_param("format") ? req.get_param_value("format") : std::string("auto");
      std::vector<Diagnostic> diagnostics;
      KINSHIP_ASSIGN_OR_RETURN(
          std::vector<Incident> read,
          ReadUnstoredBuffer(service.Unstored(), req.body, name, format, &diagnostics));
      std::optional<StixExport> bundle;
      if (*stix) bundle.emplace(a.kb(), StixExport::Now());
      Json results = Json::array();
      for (const Incident& inc : read) {
        attrib::Result r = a.Attribute(inc);
        NameKbItems(a.kb(), r);
        if (bundle) {
          bundle->Add(inc, r);
          continue;
        }
        const EvidenceSources sources = EvidenceSourcesOf(service.Naming(a), inc, r);
        Json j = {{"incident", r.incident}, {"file", inc.provenance.file}, {"stored", false}};
        j.update(AttributionJson(r, &sources));
        results.push_back(std::move(j));
      }
      if (bundle) {
        res.set_header("X-Kinship-Diagnostics", std::to_string(diagnostics.size()));
        return bundle->Bundle();
      }
      return Json{{"results", std::move(results)}, {"diagnostics", DiagnosticsJson(diagnostics)}};
    };
    Reply(res, service.Run(attribute, /*style=*/true), *stix);
  });
  svr.Get("/v1/campaigns", [&service](const httplib::Request& req, httplib::Response& res) {
    const std::optional<bool> stix = StixParam(req, res);
    if (!stix) return;
    auto campaigns = [&](Analysis& a) -> absl::StatusOr<Json> {
      KINSHIP_ASSIGN_OR_RETURN(double threshold, ProbabilityParam(req, "threshold", 0.5, 0.01));
      KINSHIP_ASSIGN_OR_RETURN(score::Linkage linkage, LinkageParam(req));
      KINSHIP_ASSIGN_OR_RETURN(bool attribute, BoolParam(req, "attribution", true));
      KINSHIP_ASSIGN_OR_RETURN(size_t items,
                               SizeParam(req, "items", kCampaignItemsListed, 0, 1000000));
      return service.Campaigns(a, threshold, linkage, attribute, items, *stix);
    };
    // Without attribution no campaign needs the naming-style classifier: no wait for it.
    const bool style = BoolParam(req, "attribution", true).value_or(true);
    Reply(res, service.Run(campaigns, style), *stix);
  });
  svr.Get("/v1/pivot", [&service](const httplib::Request& req, httplib::Response& res) {
    Reply(res, service.Run([&](Analysis& a) -> absl::StatusOr<Json> {
      KINSHIP_ASSIGN_OR_RETURN(std::string value, Param(req, "value"));
      const std::string type = req.has_param("type") ? req.get_param_value("type") : "";
      KINSHIP_ASSIGN_OR_RETURN(PivotValue v, ParsePivotValue(value, type));
      KINSHIP_ASSIGN_OR_RETURN(size_t inside_limit,
                               SizeParam(req, "inside_limit", kMaxValuesInside, 1, 1000000));
      KINSHIP_ASSIGN_OR_RETURN(Store::ValueHolders h, service.WithStore([&](Store& s) {
        return s.IncidentsWithValue(v.type, v.canonical);
      }));
      KINSHIP_ASSIGN_OR_RETURN(
          std::vector<NetworkHolders> networks,
          service.WithStore([&](Store& s) { return EnclosingNetworkHolders(s, v); }));
      KINSHIP_ASSIGN_OR_RETURN(Store::ValuesInsideNetwork inside, service.WithStore([&](Store& s) {
        return ValuesInsideNetwork(s, v, inside_limit);
      }));
      return PivotJson(v, h, networks, inside, a.index().OverCorrelationLimit());
    }));
  });
}

absl::Status RunServe(const GlobalOptions& g, const ServeArgs& args) {
  if (args.port < 0 || args.port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("--port ", args.port, " is not a TCP port"));
  }
  Service service(g, args);
  KINSHIP_RETURN_IF_ERROR(service.Index());
  // SIGINT / SIGTERM end the server cleanly: they are blocked in every thread (httplib's
  // workers inherit the mask) and taken by one thread that stops the server.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  httplib::Server svr;
  // httplib's default also sets SO_REUSEPORT, which would let a second server bind the same
  // port and silently share its requests; SO_REUSEADDR alone still allows a quick restart.
  svr.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  Routes(svr, service, args.max_body);
  if (!g.quiet) {
    svr.set_logger([](const httplib::Request& req, const httplib::Response& res) {
      std::fprintf(stderr, "%s %s %d\n", req.method.c_str(), req.target.c_str(), res.status);
    });
  }
  int port = args.port;
  if (port == 0) {
    port = svr.bind_to_any_port(args.host);
  } else if (!svr.bind_to_port(args.host, port)) {
    port = -1;
  }
  if (port < 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", args.host, ":", args.port));
  }
  const std::string url = absl::StrCat("http://", args.host, ":", port);
  KINSHIP_ASSIGN_OR_RETURN(const Json status, service.Run([&](Analysis& a) -> absl::StatusOr<Json> {
    return service.Status(a);
  }));
  if (g.json) {
    PrintJsonLine({{"listening", url}, {"status", status}});
  } else {
    std::printf("kinship serving %s (%zu incidents indexed in %.2f s) on %s\n",
                status["store"].get<std::string>().c_str(), status["incidents"].get<size_t>(),
                status["index_seconds"].get<double>(), url.c_str());
  }
  std::fflush(stdout);
  std::atomic<bool> signalled = false;
  std::thread stopper([&svr, &stop_signals, &signalled] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    signalled = true;
    svr.stop();
  });
  const bool served = svr.listen_after_bind();
  // If the server ended on its own, the stopper is still waiting for a signal: send it one.
  if (!signalled) pthread_kill(stopper.native_handle(), SIGTERM);
  stopper.join();
  pthread_sigmask(SIG_UNBLOCK, &stop_signals, nullptr);
  if (!served && !signalled) {
    return absl::UnavailableError(absl::StrCat("the server on ", url, " stopped"));
  }
  if (!g.json) std::printf("kinship serve: stopped\n");
  return absl::OkStatus();
}

void Setup(CLI::App& app, GlobalOptions& g) {
  auto args = std::make_shared<ServeArgs>();
  auto* cmd = app.add_subcommand(
      "serve",
      "Answer similar/compare/attribute/pivot/campaigns over HTTP (JSON) from an in-memory index");
  cmd->add_option("--host", args->host, "Address to listen on (default 127.0.0.1: this machine)");
  cmd->add_option("--port", args->port, "TCP port (0: any free port, printed at start)");
  cmd->add_option("--max-body", args->max_body,
                  "Largest request body (a file posted to /v1/attribute) in bytes; larger is "
                  "refused with 413 before it is read")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, limits::kMaxInputFileBytes));
  AddAttributionOptions(*cmd, args->settings);
  cmd->callback([&g, args] { g.exit_code = Finish(g, RunServe(g, *args)); });
}

CommandRegistrar reg(48, &Setup);

}  // namespace
}  // namespace kinship::cli
