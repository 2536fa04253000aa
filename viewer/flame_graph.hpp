// The call tree of a DHAT profile weighted by one metric, as `dhat-view flamegraph` draws it.
//
// Contract: `build_flame_tree` merges program points whose frames read the same once addresses
// are removed (as `diff` matches them); node 0 is the root ("all"), its value the sum of the
// metric over every program point, and each node's value the sum of its children's plus what
// was allocated at it. Normal order: the outermost frame (main's side) under the root, the
// allocation site at the top; inverted: the allocation sites under the root, then their callers.
// Program points worth 0 for the metric are left out. Children are sorted by value, largest
// first, then by name, so the output is the same for the same file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "metrics.hpp"
#include "profile_file.hpp"

namespace dhat::viewer {

struct FlameNode {
  std::string name;
  std::uint64_t value = 0;
  std::vector<std::size_t> children;  // indexes into FlameTree::nodes
};

struct FlameTree {
  std::vector<FlameNode> nodes;  // nodes[0] is the root
};

[[nodiscard]] FlameTree build_flame_tree(const Profile& profile, Metric metric, bool inverted);

// Collapsed stacks, one line per path from the root to a node that holds a value of its own:
// "frame;frame;frame VALUE" (root frame left out), for flamegraph.pl, inferno and speedscope.
[[nodiscard]] std::string folded_stacks(const FlameTree& tree);

// The self-contained HTML page (no network, no external file): the tree as JSON in the page and
// the code that draws it, with hover, click-to-zoom and search.
[[nodiscard]] std::string flame_graph_page(const FlameTree& tree, const std::string& title,
                                           const std::string& metric_label, const std::string& unit, bool inverted);

}  // namespace dhat::viewer
