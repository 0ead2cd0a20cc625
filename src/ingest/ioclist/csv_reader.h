// A small RFC 4180 CSV reader that keeps each field's line:column, for IOC lists. Hand-written:
// no Debian CSV library reports field positions, and errors must name line:col.
#ifndef KINSHIP_INGEST_IOCLIST_CSV_READER_H_
#define KINSHIP_INGEST_IOCLIST_CSV_READER_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "kinship/status.h"

namespace kinship::ingest::internal {

struct CsvField {
  std::string value;  // unquoted ("" -> ")
  size_t line = 0;    // 1-based position of the field's first character
  size_t col = 0;
};

// Reads records from `text` (not owned; must outlive the reader). Fields are separated by
// `delimiter`; records by LF or CRLF; double-quoted fields may hold delimiters, quotes ("") and
// line breaks. A quote inside an unquoted field is kept literally (common in real exports).
class CsvReader {
 public:
  // `first_line` is the line number of text[0] in the whole file (for messages).
  CsvReader(std::string_view text, char delimiter, size_t first_line = 1)
      : text_(text), delimiter_(delimiter), line_(first_line) {}

  // Reads the next record into `fields` (cleared first). Returns false at end of input. Errors:
  // kInvalidArgument "line:col: message" for an unterminated quoted field or text after a
  // closing quote; the reader cannot continue after an error.
  absl::StatusOr<bool> Next(std::vector<CsvField>* fields);

  // The record's first line, for messages about a whole record.
  size_t record_line() const { return record_line_; }

 private:
  void Advance();  // moves past text_[pos_], tracking line and column

  std::string_view text_;
  char delimiter_;
  size_t pos_ = 0;
  size_t line_;
  size_t col_ = 1;
  size_t record_line_ = 0;
};

// Picks the delimiter of a CSV header line: the most frequent of ',', ';' and TAB outside quotes
// (',' on a tie or when none occurs).
char DetectDelimiter(std::string_view header_line);

}  // namespace kinship::ingest::internal

#endif  // KINSHIP_INGEST_IOCLIST_CSV_READER_H_
