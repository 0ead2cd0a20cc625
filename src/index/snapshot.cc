// Index snapshots: SimilarityIndex::Impl written to a file and read back (DESIGN.md, "Storage and
// scale": indexes are rebuilt from the store or loaded from a snapshot). Written by hand: the
// index is a few flat arrays (feature hashes, kinds, postings heads and lists, key texts, the
// incidents' feature ids) that no packaged serialiser stores more simply, and a loader must
// check every number it will later index an array with (the snapshot fuzzer feeds it anything).
//
// Layout (util/binary_io.h: host byte order, checked by a marker; integers fixed width; a string
// or an array is a u64 count and its bytes):
//   magic "KINSIDX\0", u32 format, u32 byte-order marker, string kinship version,
//   u64 feature fingerprint, string key, the build-time options,
//   u64 incidents N, u64 features F,
//   kinds: u32 count, (u8 family, f32 strength) each,
//   key hashes u64[F], kinds of features u8[F],
//   key texts: u64 count, string each,
//   postings heads u32[F], lists: u64 count, (u32 text, u32[] incidents) each,
//   bitmaps: u64 count, (u32 feature, u64[] words) each,
//   incidents: N x (string id, first seen, last seen, two optional i32 days, string[] actors,
//              u32[] feature ids, u8 has digests),
//   fuzzy digests taken: u64 count, (u32 incident, u32 feature) each,
//   magic "KIDXEND\0".

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "index/postings.h"
#include "kinship/similarity.h"
#include "score/internal.h"
#include "util/binary_io.h"
#include "util/stable_hash.h"

namespace kinship::score {

using Impl = SimilarityIndex::Impl;

namespace {

constexpr char kMagic[8] = {'K', 'I', 'N', 'S', 'I', 'D', 'X', '\0'};
constexpr char kEnd[8] = {'K', 'I', 'D', 'X', 'E', 'N', 'D', '\0'};
// Bump when the layout changes. Changes to what features an incident gets are caught by the
// fingerprint below, whatever this says.
constexpr uint32_t kFormat = 2;  // 2: feature keys hashed by XXH3
constexpr uint32_t kByteOrder = 0x01020304;

// What ExtractFeatures makes of a fixed incident holding one indicator of every kind, a
// technique, software, a victim and a window, and how its keys hash: a snapshot written by a
// build that extracts or hashes features differently (or with other n-gram options) is stale
// even under the same key.
uint64_t FeatureFingerprint(const ScoringOptions& options) {
  Incident inc;
  inc.id = "fingerprint";
  inc.first_seen = "2020-01-02";
  inc.last_seen = "2020-03-04";
  auto add = [&inc](IndicatorType type, std::string value) {
    Indicator i;
    i.type = type;
    i.value = std::move(value);
    inc.indicators.push_back(std::move(i));
  };
  add(IndicatorType::kIpv4, "203.0.113.7");
  add(IndicatorType::kIpv6, "2001:db8:1:2::7");
  add(IndicatorType::kCidr, "198.51.100.0/23");
  add(IndicatorType::kDomain, "update-check.example-cdn.com");
  add(IndicatorType::kUrl, "http://login.example.org/account/verify.php?id=1");
  add(IndicatorType::kEmail, "hr-office@example.net");
  add(IndicatorType::kFilename, "invoice_2020_scan.exe");
  add(IndicatorType::kFilename, "%APPDATA%\\Microsoft\\Network\\netwatch.dll");
  add(IndicatorType::kSha256, std::string(64, 'a'));
  add(IndicatorType::kTlsh,
      "T1A0B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3");
  add(IndicatorType::kSsdeep, "96:abcdefghijklmnopqrstu:abcdefghijk");
  inc.techniques.push_back({.id = "T1566.001", .name = "Spearphishing Attachment"});
  inc.software.push_back({.name = "CHOPSTICK", .id = "S0023", .kind = "malware"});
  inc.victim.sector = "government";
  inc.victim.country = "DE";
  std::vector<Feature> f = ExtractFeatures(inc, nullptr, options);
  std::vector<std::string> keys;
  // With each key's hash: the dictionary saved is of hashes, so a build hashing keys otherwise
  // cannot read it.
  for (const Feature& x : f) {
    keys.push_back(absl::StrCat(static_cast<int>(x.family), "|", x.strength, "|", x.key, "|",
                                Impl::HashKey(x.key)));
  }
  std::sort(keys.begin(), keys.end());
  std::string text;
  for (const std::string& k : keys) absl::StrAppend(&text, k, "\n");
  return util::StableHash(text);
}

// Build-time options: those Add reads. The query-time ones (max_candidate_df, over_correlation_*)
// are the loader's.
bool SameBuildOptions(const ScoringOptions& a, const ScoringOptions& b) {
  return a.saturation == b.saturation && a.ngram == b.ngram &&
         a.max_naming_features == b.max_naming_features &&
         a.time_window_days == b.time_window_days &&
         a.fuzzy_tlsh_max_distance == b.fuzzy_tlsh_max_distance &&
         a.fuzzy_ssdeep_min_score == b.fuzzy_ssdeep_min_score &&
         a.fuzzy_max_neighbours == b.fuzzy_max_neighbours;
}

using Writer = util::BinaryWriter;
using Reader = util::BinaryReader;
constexpr char kKind[] = "index snapshot";

// A (feature, incident) pair mixed to 64 bits (splitmix64's finaliser), for a multiset sum.
uint64_t MixPair(uint32_t fid, uint32_t doc) {
  uint64_t z = (uint64_t{fid} << 32 | doc) + 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

struct Header {
  bool readable = false;
  std::string version, key;
  uint32_t format = 0;
  uint64_t fingerprint = 0;
};

absl::StatusOr<Header> ReadHeader(Reader& r) {
  char magic[8];
  KINSHIP_RETURN_IF_ERROR(r.Bytes(magic, sizeof magic, "magic"));
  if (std::memcmp(magic, kMagic, sizeof magic) != 0) return r.Fail("not a kinship index snapshot");
  Header h;
  KINSHIP_ASSIGN_OR_RETURN(h.format, r.Get<uint32_t>("format"));
  KINSHIP_ASSIGN_OR_RETURN(uint32_t order, r.Get<uint32_t>("byte order"));
  KINSHIP_ASSIGN_OR_RETURN(h.version, r.Str("kinship version"));
  h.readable = h.format == kFormat && order == kByteOrder && h.version == KINSHIP_VERSION;
  if (!h.readable) return h;
  KINSHIP_ASSIGN_OR_RETURN(h.fingerprint, r.Get<uint64_t>("feature fingerprint"));
  KINSHIP_ASSIGN_OR_RETURN(h.key, r.Str("key"));
  return h;
}

}  // namespace

struct Impl::SnapshotIo {
  static void WriteOptions(Writer& w, const ScoringOptions& o) {
    for (double s : o.saturation) w.Put<double>(s);
    w.Put<int32_t>(o.ngram);
    w.Put<uint64_t>(o.max_naming_features);
    w.Put<int32_t>(o.time_window_days);
    w.Put<int32_t>(o.fuzzy_tlsh_max_distance);
    w.Put<int32_t>(o.fuzzy_ssdeep_min_score);
    w.Put<uint64_t>(o.fuzzy_max_neighbours);
  }

  static absl::StatusOr<ScoringOptions> ReadOptions(Reader& r) {
    ScoringOptions o;
    for (double& s : o.saturation) {
      KINSHIP_ASSIGN_OR_RETURN(s, r.Get<double>("options"));
    }
    KINSHIP_ASSIGN_OR_RETURN(o.ngram, r.Get<int32_t>("options"));
    KINSHIP_ASSIGN_OR_RETURN(o.max_naming_features, r.Get<uint64_t>("options"));
    KINSHIP_ASSIGN_OR_RETURN(o.time_window_days, r.Get<int32_t>("options"));
    KINSHIP_ASSIGN_OR_RETURN(o.fuzzy_tlsh_max_distance, r.Get<int32_t>("options"));
    KINSHIP_ASSIGN_OR_RETURN(o.fuzzy_ssdeep_min_score, r.Get<int32_t>("options"));
    KINSHIP_ASSIGN_OR_RETURN(o.fuzzy_max_neighbours, r.Get<uint64_t>("options"));
    return o;
  }

  template <typename T>
  static void WriteChunked(Writer& w, const Chunked<T>& c) {
    w.Put<uint64_t>(c.size());
    for (size_t i = 0; i < c.size(); i += Chunked<T>::kChunk) {
      w.Bytes(c.chunks_[i >> Chunked<T>::kShift].get(),
              std::min(Chunked<T>::kChunk, c.size() - i) * sizeof(T));
    }
  }

  template <typename T>
  static absl::Status ReadChunked(Reader& r, size_t expect, Chunked<T>& c, std::string_view what) {
    KINSHIP_ASSIGN_OR_RETURN(size_t n, r.Count(sizeof(T), what));
    if (n != expect)
      return r.Fail(absl::StrCat(AV(what), ": ", n, " entries, ", expect, " expected"));
    std::vector<T> buf(std::min<size_t>(n, Chunked<T>::kChunk));
    for (size_t i = 0; i < n; i += buf.size()) {
      const size_t m = std::min(buf.size(), n - i);
      KINSHIP_RETURN_IF_ERROR(r.Bytes(buf.data(), m * sizeof(T), what));
      for (size_t j = 0; j < m; ++j) c.push_back(buf[j]);
    }
    return absl::OkStatus();
  }

  static void Write(Writer& w, const Impl& im, std::string_view key) {
    w.Bytes(kMagic, sizeof kMagic);
    w.Put<uint32_t>(kFormat);
    w.Put<uint32_t>(kByteOrder);
    w.Str(KINSHIP_VERSION);
    w.Put<uint64_t>(FeatureFingerprint(im.options));
    w.Str(key);
    WriteOptions(w, im.options);
    w.Put<uint64_t>(im.docs.size());
    w.Put<uint64_t>(im.FeatureCount());
    w.Put<uint32_t>(static_cast<uint32_t>(im.kinds.size()));
    for (const auto& [family, strength] : im.kinds) {
      w.Put<uint8_t>(static_cast<uint8_t>(family));
      w.Put<float>(strength);
    }
    WriteChunked(w, im.key_hash);
    WriteChunked(w, im.kind_of_feature);
    w.Put<uint64_t>(im.texts.size());
    for (size_t i = 0; i < im.texts.size(); ++i) w.Str(im.texts[i]);
    WriteChunked(w, im.postings.head_);
    w.Put<uint64_t>(im.postings.lists_.size());
    for (const Postings::List& l : im.postings.lists_) {
      w.Put<uint32_t>(l.text);
      w.Array(l.docs);
    }
    w.Put<uint64_t>(im.bitmaps.size());
    std::vector<uint32_t> fid_of(im.bitmaps.size());
    for (const auto& [fid, i] : im.bitmap_of) fid_of[i] = fid;
    for (size_t i = 0; i < im.bitmaps.size(); ++i) {
      w.Put<uint32_t>(fid_of[i]);
      w.Array(im.bitmaps[i]);
    }
    for (const Doc& d : im.docs) {
      w.Str(d.id);
      w.Str(d.first_seen);
      w.Str(d.last_seen);
      for (const std::optional<int32_t>& day : {d.first_day, d.last_day}) {
        w.Put<uint8_t>(day.has_value());
        w.Put<int32_t>(day.value_or(0));
      }
      w.Put<uint64_t>(d.actors.size());
      for (const std::string& a : d.actors) w.Str(a);
      w.Array(d.features);
      w.Put<uint8_t>(d.has_fuzzy);
    }
    w.Put<uint64_t>(im.fuzzy_added.size());
    for (const auto& [doc, fid] : im.fuzzy_added) {
      w.Put<uint32_t>(doc);
      w.Put<uint32_t>(fid);
    }
    w.Bytes(kEnd, sizeof kEnd);
  }

  // Reads what Write wrote after the header into `im` (options and kb already set), checking
  // every number later used as an index.
  static absl::Status Read(Reader& r, Impl& im) {
    KINSHIP_ASSIGN_OR_RETURN(const uint64_t n_docs, r.Get<uint64_t>("incident count"));
    KINSHIP_ASSIGN_OR_RETURN(const uint64_t n_features, r.Get<uint64_t>("feature count"));
    // An incident takes at least 51 bytes of the file, a feature 13.
    if (n_docs >= Postings::kList || n_docs > r.remaining() / 51 ||
        n_features > r.remaining() / 13 || n_features > Postings::kNoText) {
      return r.Fail("incident or feature count out of range");
    }
    KINSHIP_ASSIGN_OR_RETURN(const uint32_t n_kinds, r.Get<uint32_t>("kind count"));
    if (n_kinds > kMaxKinds) return r.Fail("more than 256 (family, strength) pairs");
    for (uint32_t i = 0; i < n_kinds; ++i) {
      KINSHIP_ASSIGN_OR_RETURN(uint8_t family, r.Get<uint8_t>("kind"));
      KINSHIP_ASSIGN_OR_RETURN(float strength, r.Get<float>("kind"));
      if (family >= kFamilyCount) return r.Fail("unknown evidence family");
      if (!(strength >= 0 && strength <= 100)) return r.Fail("feature strength out of range");
      im.kinds.emplace_back(static_cast<Family>(family), strength);
    }
    KINSHIP_RETURN_IF_ERROR(ReadChunked(r, n_features, im.key_hash, "feature key hashes"));
    KINSHIP_RETURN_IF_ERROR(ReadChunked(r, n_features, im.kind_of_feature, "feature kinds"));
    for (size_t f = 0; f < n_features; ++f) {
      if (im.kind_of_feature[f] >= n_kinds) return r.Fail("feature kind out of range");
    }
    KINSHIP_ASSIGN_OR_RETURN(const size_t n_texts, r.Count(8, "key texts"));
    for (size_t i = 0; i < n_texts; ++i) {
      KINSHIP_ASSIGN_OR_RETURN(std::string t, r.Str("key text"));
      if (!im.texts.HasRoom(t.size() + 10) || !im.texts.Add(t)) {
        return r.Fail("key texts exceed 4 GiB");
      }
    }
    KINSHIP_RETURN_IF_ERROR(ReadChunked(r, n_features, im.postings.head_, "postings heads"));
    KINSHIP_ASSIGN_OR_RETURN(const size_t n_lists, r.Count(12, "postings lists"));
    im.postings.lists_.resize(n_lists);
    std::vector<bool> list_used(n_lists, false);
    for (Postings::List& l : im.postings.lists_) {
      KINSHIP_ASSIGN_OR_RETURN(l.text, r.Get<uint32_t>("postings list"));
      if (l.text != Postings::kNoText && l.text >= n_texts) {
        return r.Fail("postings list names a key text out of range");
      }
      KINSHIP_ASSIGN_OR_RETURN(l.docs, r.Array<uint32_t>("postings list"));
      if (l.docs.empty()) return r.Fail("empty postings list");
      for (size_t i = 0; i < l.docs.size(); ++i) {
        if (l.docs[i] >= n_docs || (i > 0 && l.docs[i] <= l.docs[i - 1])) {
          return r.Fail("postings list out of order or out of range");
        }
      }
    }
    for (size_t f = 0; f < n_features; ++f) {
      const uint32_t h = im.postings.head_[f];
      if ((h & Postings::kList) != 0) {
        const uint32_t l = h & ~Postings::kList;
        if (l >= n_lists || list_used[l]) return r.Fail("postings head out of range");
        list_used[l] = true;
      } else if (h >= n_docs) {
        return r.Fail("postings head names an incident out of range");
      }
    }
    KINSHIP_ASSIGN_OR_RETURN(const size_t n_bitmaps, r.Count(12, "bitmaps"));
    for (size_t i = 0; i < n_bitmaps; ++i) {
      KINSHIP_ASSIGN_OR_RETURN(uint32_t fid, r.Get<uint32_t>("bitmap"));
      KINSHIP_ASSIGN_OR_RETURN(std::vector<uint64_t> bits, r.Array<uint64_t>("bitmap"));
      if (fid >= n_features || !im.bitmap_of.emplace(fid, i).second) {
        return r.Fail("bitmap of a feature out of range or given twice");
      }
      im.bitmaps.push_back(std::move(bits));
    }
    // The postings are the incidents' features turned around: the same (feature, incident) pairs
    // on both sides, compared as a count and a sum of mixed pairs (each side read in its own
    // order; looking every incident's feature up in its postings took two thirds of a load).
    uint64_t doc_side = 0, doc_pairs = 0;
    im.docs.reserve(n_docs);
    im.doc_ids.reserve(n_docs);
    for (size_t doc = 0; doc < n_docs; ++doc) {
      Doc d;
      KINSHIP_ASSIGN_OR_RETURN(d.id, r.Str("incident id"));
      KINSHIP_ASSIGN_OR_RETURN(d.first_seen, r.Str("incident first seen"));
      KINSHIP_ASSIGN_OR_RETURN(d.last_seen, r.Str("incident last seen"));
      for (std::optional<int32_t>* day : {&d.first_day, &d.last_day}) {
        KINSHIP_ASSIGN_OR_RETURN(uint8_t has, r.Get<uint8_t>("incident day"));
        KINSHIP_ASSIGN_OR_RETURN(int32_t v, r.Get<int32_t>("incident day"));
        if (has > 1) return r.Fail("incident day flag");
        if (has == 1) *day = v;
      }
      // The days are those of the dates (as Add derives them), so never out of range.
      if (d.first_day != internal::DaysFromIso(d.first_seen) ||
          d.last_day != internal::DaysFromIso(d.last_seen)) {
        return r.Fail("incident days disagree with its dates");
      }
      KINSHIP_ASSIGN_OR_RETURN(size_t n_actors, r.Count(8, "incident actors"));
      for (size_t i = 0; i < n_actors; ++i) {
        KINSHIP_ASSIGN_OR_RETURN(std::string a, r.Str("incident actor"));
        d.actors.push_back(std::move(a));
      }
      KINSHIP_ASSIGN_OR_RETURN(d.features, r.Array<uint32_t>("incident features"));
      for (size_t i = 0; i < d.features.size(); ++i) {
        const uint32_t fid = d.features[i];
        if (fid >= n_features || (i > 0 && fid <= d.features[i - 1])) {
          return r.Fail("incident feature ids out of order or out of range");
        }
        doc_side += MixPair(fid, static_cast<uint32_t>(doc));
        ++doc_pairs;
      }
      KINSHIP_ASSIGN_OR_RETURN(uint8_t has_fuzzy, r.Get<uint8_t>("incident digests flag"));
      if (has_fuzzy > 1) return r.Fail("incident digests flag");
      d.has_fuzzy = has_fuzzy == 1;
      if (d.id.empty() || !im.doc_ids.emplace(d.id, static_cast<uint32_t>(doc)).second) {
        return r.Fail(absl::StrCat("incident id '", d.id, "' empty or given twice"));
      }
      im.docs.push_back(std::move(d));
    }
    uint64_t postings_side = 0, postings_pairs = 0;
    for (size_t f = 0; f < n_features; ++f) {
      for (uint32_t doc : im.postings[static_cast<uint32_t>(f)]) {
        postings_side += MixPair(static_cast<uint32_t>(f), doc);
        ++postings_pairs;
      }
    }
    if (postings_side != doc_side || postings_pairs != doc_pairs) {
      return r.Fail("the postings disagree with the incidents' features");
    }
    for (const auto& [fid, i] : im.bitmap_of) {
      size_t bits = 0;
      for (uint64_t w : im.bitmaps[i]) bits += static_cast<size_t>(__builtin_popcountll(w));
      if (bits != im.Df(fid)) return r.Fail("a bitmap disagrees with its postings");
      for (uint32_t doc : im.postings[fid]) {
        if (!Holds(im.bitmaps[i], doc)) return r.Fail("a bitmap disagrees with its postings");
      }
    }
    KINSHIP_ASSIGN_OR_RETURN(const size_t n_fuzzy, r.Count(8, "fuzzy digests"));
    for (size_t i = 0; i < n_fuzzy; ++i) {
      KINSHIP_ASSIGN_OR_RETURN(uint32_t doc, r.Get<uint32_t>("fuzzy digest"));
      KINSHIP_ASSIGN_OR_RETURN(uint32_t fid, r.Get<uint32_t>("fuzzy digest"));
      if (doc >= n_docs || fid >= n_features || !im.docs[doc].has_fuzzy ||
          !std::binary_search(im.docs[doc].features.begin(), im.docs[doc].features.end(), fid) ||
          !im.AddFuzzy(doc, fid)) {
        return r.Fail("a fuzzy digest that is none of its incident's digests");
      }
    }
    char end[8];
    KINSHIP_RETURN_IF_ERROR(r.Bytes(end, sizeof end, "end marker"));
    if (std::memcmp(end, kEnd, sizeof end) != 0 || !r.at_end()) {
      return r.Fail("no end marker where the snapshot should end");
    }
    // The dictionary: feature ids hashed by their key hashes (distinct, as Add keeps them).
    im.feature_ids.reserve(n_features);
    for (size_t f = 0; f < n_features; ++f) {
      if (!im.feature_ids.insert(static_cast<uint32_t>(f)).second) {
        return r.Fail("two features with one key hash");
      }
    }
    return absl::OkStatus();
  }
};

namespace {

// The header of a snapshot to load: an error unless it is readable and current for `key` and
// `options`.
absl::Status CheckHeader(Reader& r, std::string_view key, const ScoringOptions& options,
                         std::string_view name) {
  KINSHIP_ASSIGN_OR_RETURN(Header h, ReadHeader(r));
  if (!h.readable) {
    return absl::FailedPreconditionError(absl::StrCat(
        AV(name), ": written by kinship ", h.version, " (snapshot format ", h.format,
        "); this build reads format ", kFormat, " of ", KINSHIP_VERSION, ": index again"));
  }
  if (h.fingerprint != FeatureFingerprint(options)) {
    return absl::FailedPreconditionError(absl::StrCat(
        AV(name), ": written by a build that extracts features otherwise: index again"));
  }
  if (h.key != key) {
    return absl::FailedPreconditionError(absl::StrCat(
        AV(name), ": written for '", h.key, "', the store is now '", AV(key), "': index again"));
  }
  KINSHIP_ASSIGN_OR_RETURN(ScoringOptions saved, Impl::SnapshotIo::ReadOptions(r));
  if (!SameBuildOptions(saved, options)) {
    return absl::FailedPreconditionError(
        absl::StrCat(AV(name), ": written with other similarity options: index again"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SimilarityIndex> SimilarityIndex::LoadFrom(void* reader, std::string_view key,
                                                          const kb::KnowledgeBase* kb,
                                                          ScoringOptions options,
                                                          std::string_view name) {
  Reader& r = *static_cast<Reader*>(reader);
  KINSHIP_RETURN_IF_ERROR(CheckHeader(r, key, options, name));
  SimilarityIndex index(kb, std::move(options));
  KINSHIP_RETURN_IF_ERROR(Impl::SnapshotIo::Read(r, *index.impl_));
  return index;
}

absl::Status SimilarityIndex::Save(const std::string& path, std::string_view key) const {
  return util::WriteFileAtomically(path, kKind,
                                   [&](Writer& w) { Impl::SnapshotIo::Write(w, *impl_, key); });
}

absl::StatusOr<SimilarityIndex> SimilarityIndex::Load(const std::string& path, std::string_view key,
                                                      const kb::KnowledgeBase* kb,
                                                      ScoringOptions options) {
  return util::ReadFile<SimilarityIndex>(
      path, kKind, [&](Reader& r) { return LoadFrom(&r, key, kb, std::move(options), path); });
}

absl::StatusOr<SimilarityIndex> SimilarityIndex::LoadBytes(std::string_view bytes,
                                                           std::string_view name,
                                                           std::string_view key,
                                                           const kb::KnowledgeBase* kb,
                                                           ScoringOptions options) {
  Reader r(std::string(name), kKind, bytes);
  return LoadFrom(&r, key, kb, std::move(options), name);
}

absl::StatusOr<SimilarityIndex::SnapshotHeader> SimilarityIndex::ReadSnapshotHeader(
    const std::string& path) {
  return util::ReadFile<
      SnapshotHeader>(path, kKind, [](Reader& r) -> absl::StatusOr<SnapshotHeader> {
    KINSHIP_ASSIGN_OR_RETURN(Header h, ReadHeader(r));
    return SnapshotHeader{h.key, absl::StrCat(h.version, " (format ", h.format, ")"), h.readable};
  });
}

}  // namespace kinship::score
