// The last component of a file path, '/' or '\' separated, as the sources write them
// ("%APPDATA%\Microsoft\wimsvc.exe" -> "wimsvc.exe"); a path ending in separators gives its last
// directory ("%ALLUSERSPROFILE%\NetCache\" -> "NetCache"). std::filesystem::path would read a
// Windows path on Linux as one name.
#ifndef KINSHIP_UTIL_PATH_H_
#define KINSHIP_UTIL_PATH_H_

#include <string_view>

namespace kinship::util {

inline std::string_view BaseName(std::string_view path) {
  while (!path.empty() && (path.back() == '\\' || path.back() == '/')) path.remove_suffix(1);
  const size_t sep = path.find_last_of("\\/");
  return sep == std::string_view::npos ? path : path.substr(sep + 1);
}

}  // namespace kinship::util

#endif  // KINSHIP_UTIL_PATH_H_
