// Exact extraction: decides what one candidate token is (or why it is not an indicator). Pure
// functions; the normalize stage is reached through Checks so the scanner can be tested alone.
#ifndef KINSHIP_EXTRACT_CLASSIFY_H_
#define KINSHIP_EXTRACT_CLASSIFY_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "kinship/model.h"

namespace kinship::extract::internal {

// The two normalize.h services exact extraction needs.
struct Checks {
  std::string (*refang)(std::string_view text);
  std::optional<std::string> (*registered_domain)(std::string_view domain);
};
// normalize::Refang and normalize::RegisteredDomain (checks_normalize.cc).
const Checks& NormalizeChecks();

struct Classified {
  IndicatorType type = IndicatorType::kOther;
  std::string value;  // refanged; lower-cased where case does not matter; port/prefix removed
  std::string note;   // "port 443"
  // Needs a supporting context (not plain prose) to be believed: file names; prose domains and
  // scheme-less URLs are kept but weak.
  bool needs_context = false;
  bool prose_weak = false;
};

struct Rejection {
  std::string reason;  // "file name, not a domain", "AV signature name", ...
};

// Classifies a trimmed token. Returns nullopt with `why` filled
// when the token looks like an indicator but a precision rule rejects it, and nullopt with `why`
// empty when it is not an indicator at all. `network_hint`: the token's line speaks of network
// things (a "Domain" column, "C2", "contacted"), which makes "name.zip" a host, not a file.
// `value` is the token already refanged (Refang(token) == value; `defanged` when they differ).
std::optional<Classified> ClassifyToken(
    std::string_view value, bool defanged, const Checks& checks, Rejection* why,
    absl::FunctionRef<bool()> network_hint = [] { return false; });

// True when `token` may hold a defanging marker (brackets, hxxp, fxp): only such tokens are
// passed through Refang, which keeps the common case cheap.
bool MayBeDefanged(std::string_view token);

// True when `ext` (lower case, no dot) is a file extension kinship reads as a file name rather
// than a top-level domain ("exe", "pdf", "zip", "sh", "py", "md" ...).
bool IsFileExtension(std::string_view ext);

// Bitcoin address checks: Base58Check (P2PKH/P2SH, via SHA-256) or bech32/bech32m (BIP 173/350).
bool IsBitcoinAddress(std::string_view s);

}  // namespace kinship::extract::internal

#endif  // KINSHIP_EXTRACT_CLASSIFY_H_
