// libFuzzer target for the STIX parser; the invariants are in fuzz/ingest_fuzz.h.
#include "fuzz/ingest_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return kinship::fuzz::FuzzJsonParser(&kinship::ingest::ParseStix, data, size);
}
