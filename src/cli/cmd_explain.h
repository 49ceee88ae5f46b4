// `pensieve cmd --explain`: a short explanation of a command built without any model, from a
// small table of programs and their common flags walked over the validator's parsed words.
#pragma once

#include <string>
#include <string_view>

namespace pensieve::cli {

// One line per simple command ("find .: search a directory tree; -name '*.py': names matching
// *.py; ..."), joined by how the pipeline connects them. Programs and flags the table does not
// know are listed as such rather than guessed at.
std::string explain_command(std::string_view command);

}  // namespace pensieve::cli
