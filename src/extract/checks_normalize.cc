// The normalize stage as seen by exact extraction (kept apart so the scanner links without it).
#include "extract/classify.h"
#include "kinship/normalize.h"

namespace kinship::extract::internal {

const Checks& NormalizeChecks() {
  static const Checks checks{&normalize::Refang, &normalize::RegisteredDomain};
  return checks;
}

}  // namespace kinship::extract::internal
