#include "ingest/ioclist/csv_reader.h"

#include "absl/strings/str_cat.h"

namespace kinship::ingest::internal {

void CsvReader::Advance() {
  if (text_[pos_] == '\n') {
    ++line_;
    col_ = 1;
  } else {
    ++col_;
  }
  ++pos_;
}

absl::StatusOr<bool> CsvReader::Next(std::vector<CsvField>* fields) {
  fields->clear();
  if (pos_ >= text_.size()) return false;
  record_line_ = line_;
  while (true) {
    CsvField field;
    field.line = line_;
    field.col = col_;
    if (pos_ < text_.size() && text_[pos_] == '"') {
      Advance();
      while (true) {
        if (pos_ >= text_.size()) {
          return absl::InvalidArgumentError(
              absl::StrCat(field.line, ":", field.col, ": unterminated quoted field"));
        }
        char c = text_[pos_];
        if (c == '"') {
          if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '"') {
            field.value.push_back('"');
            Advance();
            Advance();
            continue;
          }
          Advance();
          break;
        }
        field.value.push_back(c);
        Advance();
      }
      if (pos_ < text_.size() && text_[pos_] != delimiter_ && text_[pos_] != '\n' &&
          !(text_[pos_] == '\r' && (pos_ + 1 == text_.size() || text_[pos_ + 1] == '\n'))) {
        return absl::InvalidArgumentError(
            absl::StrCat(line_, ":", col_, ": unexpected text after a closing quote"));
      }
    } else {
      size_t start = pos_;
      while (pos_ < text_.size() && text_[pos_] != delimiter_ && text_[pos_] != '\n') Advance();
      std::string_view raw = text_.substr(start, pos_ - start);
      if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
      field.value = std::string(raw);
    }
    fields->push_back(std::move(field));
    if (pos_ >= text_.size()) return true;
    if (text_[pos_] == delimiter_) {
      Advance();
      continue;
    }
    if (text_[pos_] == '\r') Advance();
    if (pos_ < text_.size() && text_[pos_] == '\n') Advance();
    return true;
  }
}

char DetectDelimiter(std::string_view header_line) {
  size_t comma = 0, semicolon = 0, tab = 0;
  bool quoted = false;
  for (char c : header_line) {
    if (c == '"') quoted = !quoted;
    if (quoted) continue;
    comma += c == ',';
    semicolon += c == ';';
    tab += c == '\t';
  }
  if (tab > comma && tab >= semicolon) return '\t';
  if (semicolon > comma) return ';';
  return ',';
}

}  // namespace kinship::ingest::internal
