// Python str helpers shared by the filters and the str methods. Case mapping is ASCII-only
// (non-ASCII letters pass through unchanged); whitespace is Python's str.isspace set.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pensieve::text::jinja::str {

bool is_space_char(std::string_view ch);  // one UTF-8 character
std::string strip(std::string_view s, bool left, bool right, const std::string* chars);
std::string upper(std::string_view s);
std::string lower(std::string_view s);
std::string capitalize(std::string_view s);
std::string py_title(std::string_view s);     // str.title(): after any non-letter
std::string jinja_title(std::string_view s);  // the |title filter: after spaces, - ( { [ <
std::vector<std::string> split(std::string_view s, const std::string* sep, int64_t maxsplit);
std::vector<std::string> splitlines(std::string_view s);
std::string replace(std::string_view s, std::string_view from, std::string_view to, int64_t count);
size_t count(std::string_view s, std::string_view sub);

}  // namespace pensieve::text::jinja::str
