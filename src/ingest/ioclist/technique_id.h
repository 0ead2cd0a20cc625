// ATT&CK technique ids in IOC lists (the list parser and ingest's format detection agree on them).
#ifndef KINSHIP_INGEST_IOCLIST_TECHNIQUE_ID_H_
#define KINSHIP_INGEST_IOCLIST_TECHNIQUE_ID_H_

#include <string_view>

namespace kinship::ingest::internal {

// "T1566" or "T1566.001" (either case): an ATT&CK technique or sub-technique id.
inline bool IsTechniqueId(std::string_view v) {
  auto digits = [&v](size_t from, size_t n) {
    if (v.size() < from + n) return false;
    for (size_t i = from; i < from + n; ++i) {
      if (v[i] < '0' || v[i] > '9') return false;
    }
    return true;
  };
  if (v.size() != 5 && v.size() != 9) return false;
  if ((v[0] != 'T' && v[0] != 't') || !digits(1, 4)) return false;
  return v.size() == 5 || (v[5] == '.' && digits(6, 3));
}

}  // namespace kinship::ingest::internal

#endif  // KINSHIP_INGEST_IOCLIST_TECHNIQUE_ID_H_
