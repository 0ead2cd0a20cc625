// ssdeep (Kornblum 2006) digests: validation, comparison through Debian's libfuzzy (the one
// adapter: fuzzy_compare is the reference score), and the block-size + 7-gram index published by
// Brian Wallace (2015). fuzzy_compare scores two digests 0 unless their block sizes are equal or
// 2x apart and the compared parts, after collapsing runs of >3 equal characters, share a
// 7-character substring -- or the digests are identical after collapsing (score 100). Indexing
// every collapsed 7-gram under the block size it is compared at, plus one key for the whole
// collapsed digest, therefore yields a superset of the pairs with a non-zero score; verifying
// candidates with fuzzy_compare makes the answer exactly the brute-force one.
#include <fuzzy.h>

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "kinship/fuzzy.h"
#include "kinship/status.h"

namespace kinship {
namespace {

constexpr size_t kMaxPart = 64;  // SPAMSUM_LENGTH
constexpr size_t kGram = 7;      // ROLLING_WINDOW

bool IsBase64(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

struct Parsed {
  uint64_t block_size;
  std::string_view part1, part2;
};

absl::StatusOr<Parsed> Parse(std::string_view d) {
  size_t c1 = d.find(':');
  if (c1 == std::string_view::npos) return absl::InvalidArgumentError("ssdeep: no ':'");
  size_t c2 = d.find(':', c1 + 1);
  if (c2 == std::string_view::npos) {
    return absl::InvalidArgumentError("ssdeep: needs BLOCKSIZE:PART1:PART2");
  }
  std::string_view bs = d.substr(0, c1);
  if (bs.empty() || bs.size() > 12 || (bs.size() > 1 && bs[0] == '0')) {
    return absl::InvalidArgumentError("ssdeep: bad block size");
  }
  uint64_t v = 0;
  for (char c : bs) {
    if (c < '0' || c > '9') return absl::InvalidArgumentError("ssdeep: bad block size");
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v == 0 || v > kMaxSsdeepBlockSize) {
    return absl::InvalidArgumentError("ssdeep: block size out of range");
  }
  Parsed p{v, d.substr(c1 + 1, c2 - c1 - 1), d.substr(c2 + 1)};
  for (std::string_view part : {p.part1, p.part2}) {
    if (part.size() > kMaxPart) return absl::InvalidArgumentError("ssdeep: part too long");
    for (char c : part) {
      if (!IsBase64(c)) {
        return absl::InvalidArgumentError(
            absl::StrCat("ssdeep: character '", std::string(1, c), "' is not base64"));
      }
    }
  }
  return p;
}

// Collapses runs of more than 3 equal characters to 3, as fuzzy_compare does.
std::string Collapse(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i >= 3 && s[i] == s[i - 1] && s[i] == s[i - 2] && s[i] == s[i - 3]) continue;
    out.push_back(s[i]);
  }
  return out;
}

// Every index key of a digest: (block size compared at, 7-gram) for both parts, and the whole,
// hashed to 32 bits. A collision between two different grams only adds a candidate, which
// verification with fuzzy_compare drops, so answers stay exact.
std::vector<uint32_t> Keys(const Parsed& p) {
  std::vector<uint32_t> keys;
  std::string a = Collapse(p.part1), b = Collapse(p.part2);
  auto fold = [](uint64_t h) { return static_cast<uint32_t>(h ^ (h >> 32)); };
  for (int part = 0; part < 2; ++part) {
    const std::string& s = part == 0 ? a : b;
    uint64_t bs = part == 0 ? p.block_size : 2 * p.block_size;
    for (size_t i = 0; i + kGram <= s.size(); ++i) {
      keys.push_back(fold(absl::HashOf(bs, std::string_view(s).substr(i, kGram))));
    }
  }
  keys.push_back(fold(absl::HashOf(p.block_size, a, ':', b)));
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

int RawCompare(const std::string& a, const std::string& b) {
  return fuzzy_compare(a.c_str(), b.c_str());
}

}  // namespace

absl::Status ValidateSsdeep(std::string_view digest) { return Parse(digest).status(); }

absl::StatusOr<int> SsdeepCompare(std::string_view a, std::string_view b) {
  KINSHIP_RETURN_IF_ERROR(ValidateSsdeep(a));
  KINSHIP_RETURN_IF_ERROR(ValidateSsdeep(b));
  int s = RawCompare(std::string(a), std::string(b));
  if (s < 0) return absl::InternalError("libfuzzy rejected a validated digest");
  return s;
}

// Postings as 8-byte entries (key << 32 | digest id), no per-key allocation: most are in one
// sorted array (binary search per key); those added since the last merge sit in a small hash of
// linked lists and are merged in once they exceed 1/8 of the sorted ones (or on Compact), so an
// Add costs amortised O(keys x log) and memory stays ~8 bytes per 7-gram. Digest texts are kept
// NUL-terminated back to back for fuzzy_compare.
struct SsdeepIndex::Impl {
  std::string text;
  std::vector<uint64_t> offsets;  // start of each digest in `text`
  std::vector<uint32_t> payloads;
  std::vector<uint64_t> sorted;
  // Directory over `sorted` by the top `bucket_bits` bits of the key (~64 entries a bucket), so a
  // lookup binary-searches one small range.
  int bucket_bits = 0;
  std::vector<size_t> bucket{0, 0};
  // Recent postings: key -> head node; node = (next node + 1) << 32 | digest id (0: end).
  absl::flat_hash_map<uint32_t, uint32_t> recent_head;
  std::vector<uint64_t> recent_nodes;
  std::vector<uint32_t> recent_keys;  // key of each node, for the merge

  const char* Digest(uint32_t id) const { return text.data() + offsets[id]; }

  void Merge() {
    if (recent_nodes.empty()) return;
    std::vector<uint64_t> batch(recent_nodes.size());
    for (size_t i = 0; i < recent_nodes.size(); ++i) {
      batch[i] = uint64_t{recent_keys[i]} << 32 | (recent_nodes[i] & 0xFFFFFFFFu);
    }
    std::sort(batch.begin(), batch.end());
    std::vector<uint64_t> merged;
    merged.reserve(sorted.size() + batch.size());
    std::merge(sorted.begin(), sorted.end(), batch.begin(), batch.end(),
               std::back_inserter(merged));
    sorted = std::move(merged);
    bucket_bits = 0;
    while (bucket_bits < 24 && (sorted.size() >> (bucket_bits + 6)) > 0) ++bucket_bits;
    bucket.assign((size_t{1} << bucket_bits) + 1, 0);
    for (uint64_t e : sorted) ++bucket[Bucket(static_cast<uint32_t>(e >> 32)) + 1];
    for (size_t b = 1; b < bucket.size(); ++b) bucket[b] += bucket[b - 1];
    recent_head = {};
    recent_nodes = {};
    recent_keys = {};
  }

  size_t Bucket(uint32_t key) const { return bucket_bits == 0 ? 0 : key >> (32 - bucket_bits); }

  template <typename F>
  void ForEachPosting(uint32_t key, F&& f) const {
    const size_t b = Bucket(key);
    const auto end = sorted.begin() + static_cast<std::ptrdiff_t>(bucket[b + 1]);
    auto it = std::lower_bound(sorted.begin() + static_cast<std::ptrdiff_t>(bucket[b]), end,
                               uint64_t{key} << 32);
    for (; it != end && (*it >> 32) == key; ++it) f(static_cast<uint32_t>(*it));
    auto head = recent_head.find(key);
    if (head == recent_head.end()) return;
    for (uint32_t n = head->second;;) {
      const uint64_t node = recent_nodes[n];
      f(static_cast<uint32_t>(node));
      const uint32_t next = static_cast<uint32_t>(node >> 32);
      if (next == 0) break;
      n = next - 1;
    }
  }
};

SsdeepIndex::SsdeepIndex() : impl_(std::make_unique<Impl>()) {}
SsdeepIndex::~SsdeepIndex() = default;
SsdeepIndex::SsdeepIndex(SsdeepIndex&&) noexcept = default;
SsdeepIndex& SsdeepIndex::operator=(SsdeepIndex&&) noexcept = default;

size_t SsdeepIndex::size() const { return impl_->payloads.size(); }

absl::Status SsdeepIndex::Add(std::string_view digest, uint32_t payload) {
  KINSHIP_ASSIGN_OR_RETURN(Parsed p, Parse(digest));
  Impl& im = *impl_;
  const uint32_t id = static_cast<uint32_t>(im.payloads.size());
  for (uint32_t k : Keys(p)) {
    const uint32_t node = static_cast<uint32_t>(im.recent_nodes.size());
    auto [it, inserted] = im.recent_head.try_emplace(k, node);
    const uint64_t next = inserted ? 0 : uint64_t{it->second} + 1;
    it->second = node;
    im.recent_nodes.push_back(next << 32 | id);
    im.recent_keys.push_back(k);
  }
  im.offsets.push_back(im.text.size());
  im.text.append(digest);
  im.text.push_back('\0');
  im.payloads.push_back(payload);
  if (im.recent_nodes.size() > std::max<size_t>(size_t{1} << 16, im.sorted.size() / 8)) im.Merge();
  return absl::OkStatus();
}

void SsdeepIndex::Compact() { impl_->Merge(); }

absl::StatusOr<std::vector<SsdeepMatch>> SsdeepIndex::Query(std::string_view digest,
                                                            int min_score) const {
  if (min_score < 1 || min_score > 100) {
    return absl::InvalidArgumentError("ssdeep: min_score must be 1..100");
  }
  KINSHIP_ASSIGN_OR_RETURN(Parsed p, Parse(digest));
  absl::flat_hash_set<uint32_t> candidates;
  for (uint32_t k : Keys(p)) impl_->ForEachPosting(k, [&](uint32_t id) { candidates.insert(id); });
  const std::string q(digest);
  std::vector<std::pair<int, uint32_t>> hits;  // (-score, id)
  for (uint32_t id : candidates) {
    int s = fuzzy_compare(q.c_str(), impl_->Digest(id));
    if (s >= min_score) hits.push_back({-s, id});
  }
  std::sort(hits.begin(), hits.end());
  std::vector<SsdeepMatch> out;
  out.reserve(hits.size());
  for (const auto& h : hits) out.push_back({impl_->payloads[h.second], -h.first});
  return out;
}

}  // namespace kinship
