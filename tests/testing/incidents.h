// Small builders of model values for unit tests.
#ifndef KINSHIP_TESTS_TESTING_INCIDENTS_H_
#define KINSHIP_TESTS_TESTING_INCIDENTS_H_

#include <string>

#include "kinship/model.h"

namespace kinship::testing {

// An indicator whose canonical and raw forms are both `value`.
inline Indicator Ind(IndicatorType type, std::string value,
                     Derivation derivation = Derivation::kNone) {
  Indicator i;
  i.type = type;
  i.value = value;
  i.raw = std::move(value);
  i.derivation = derivation;
  return i;
}

}  // namespace kinship::testing

#endif  // KINSHIP_TESTS_TESTING_INCIDENTS_H_
