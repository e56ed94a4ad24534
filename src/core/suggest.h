#pragma once
// "Did you mean" for names a user typed: config keys, subcommands, flags. No I/O.
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace ttla {

// Optimal string alignment distance: a transposition ("tabel" -> "table") costs 1.
size_t edit_distance(const std::string& a, const std::string& b);

// The candidate closest to `word`, when it is close enough to be a typo: at most 1 edit for
// names under 5 characters, 2 for longer ones. Ties go to the earlier candidate.
std::optional<std::string> closest_match(const std::string& word,
                                         const std::vector<std::string>& candidates);

}  // namespace ttla
