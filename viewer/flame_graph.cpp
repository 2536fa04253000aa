#include "flame_graph.hpp"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <string_view>

#include "format/frame_text.hpp"

namespace dhat::viewer {

namespace {

// While building: each node's children by name (a map keeps the build linear in the frames).
struct Building {
  std::vector<FlameNode> nodes;
  std::vector<std::map<std::string, std::size_t, std::less<>>> child_index;

  std::size_t child(std::size_t parent, std::string_view name) {
    auto& index = child_index[parent];
    const auto found = index.find(name);
    if (found != index.end()) {
      return found->second;
    }
    const std::size_t id = nodes.size();
    nodes.push_back(FlameNode{std::string(name), 0, {}});
    child_index.emplace_back();
    child_index[parent].emplace(std::string(name), id);  // child_index may have moved: index again
    nodes[parent].children.push_back(id);
    return id;
  }
};

// Collapsed-stack lines separate frames with ';' and the value with the last space: a frame
// keeps its spaces, and a ';' in one (never seen in a symbol, but a file name may have it)
// becomes ','.
std::string folded_frame(const std::string& name) {
  std::string out = name;
  std::replace(out.begin(), out.end(), ';', ',');
  return out;
}

void fold(const FlameTree& tree, std::size_t id, std::string& path, std::string& out) {
  const FlameNode& node = tree.nodes[id];
  std::uint64_t below = 0;
  for (std::size_t child : node.children) {
    below += tree.nodes[child].value;
  }
  if (id != 0 && node.value > below) {
    out += path + " " + std::to_string(node.value - below) + "\n";
  }
  for (std::size_t child : node.children) {
    const std::size_t mark = path.size();
    path += (path.empty() ? "" : ";") + folded_frame(tree.nodes[child].name);
    fold(tree, child, path, out);
    path.resize(mark);
  }
}

// [name index, value, [children...]] (a child list only where there are children): compact, and
// the names, often repeated down different paths, are written once.
nlohmann::json node_json(const FlameTree& tree, std::size_t id, std::map<std::string_view, std::size_t>& names) {
  const FlameNode& node = tree.nodes[id];
  const auto name = names.emplace(node.name, names.size()).first->second;
  nlohmann::json out = nlohmann::json::array({name, node.value});
  if (!node.children.empty()) {
    nlohmann::json children = nlohmann::json::array();
    for (std::size_t child : node.children) {
      children.push_back(node_json(tree, child, names));
    }
    out.push_back(std::move(children));
  }
  return out;
}

// The page's code and styles. Written for this tool (no library): boxes are absolutely placed
// divs, drawn again on every zoom; names are set as text, never parsed as HTML.
constexpr const char* kPageHead = R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>dhat-view flame graph</title>
<style>
body { font: 13px sans-serif; margin: 12px; color: #222; }
#bar { display: flex; gap: 12px; align-items: center; margin-bottom: 6px; flex-wrap: wrap; }
#graph { position: relative; width: 100%; border-top: 1px solid #ddd; }
.box { position: absolute; height: 17px; box-sizing: border-box; border: 1px solid #fff;
       overflow: hidden; white-space: nowrap; font-size: 11px; line-height: 15px; padding-left: 3px;
       cursor: pointer; }
.box.ancestor { opacity: 0.55; }
.box.match { background: #e040fb !important; }
#info { min-height: 1.4em; font-family: monospace; white-space: pre-wrap; word-break: break-all; }
</style></head><body>
<h3 id="title"></h3>
<div id="bar"><button id="reset" disabled>Reset zoom</button>
<label>Search <input id="search" type="search" placeholder="part of a frame" size="30"></label>
<span id="matched"></span><span id="zoomed"></span></div>
<div id="info">Hover over a box for its frame and numbers; click to zoom in.</div>
<div id="graph"></div>
<script type="application/json" id="data">)";

constexpr const char* kPageTail = R"(</script>
<script>
'use strict';
const data = JSON.parse(document.getElementById('data').textContent);
const format = (n) => new Intl.NumberFormat('en-US').format(n);
const percent = (part, whole) => whole === 0 ? '0%' : (100 * part / whole).toFixed(2) + '%';
function build(entry, parent, depth) {
  const node = { name: data.names[entry[0]], value: entry[1], parent, depth, children: [] };
  for (const child of entry[2] || []) node.children.push(build(child, node, depth + 1));
  return node;
}
const root = build(data.tree, null, 0);
let maxDepth = 0;
(function walk(node) { maxDepth = Math.max(maxDepth, node.depth); node.children.forEach(walk); })(root);
document.getElementById('title').textContent = data.title + ': ' + data.metric + ', ' +
  format(root.value) + ' ' + data.unit + (data.inverted ? ' (inverted: allocation sites first)' : '');
const graph = document.getElementById('graph');
const rowHeight = 18;
graph.style.height = ((maxDepth + 1) * rowHeight) + 'px';
const info = document.getElementById('info');
let zoomedTo = root;
let term = '';
function describe(node) {
  return node.name + '\n' + format(node.value) + ' ' + data.unit + ', ' + percent(node.value, root.value) +
    ' of the total' + (zoomedTo !== root ? ', ' + percent(node.value, zoomedTo.value) + ' of the zoomed frame' : '');
}
function hue(name) {
  let h = 0;
  for (let i = 0; i < name.length; ++i) h = (h * 31 + name.charCodeAt(i)) >>> 0;
  return 'hsl(' + (10 + h % 40) + ',' + (70 + h % 20) + '%,' + (60 + h % 15) + '%)';
}
function matches(node) { return term !== '' && node.name.toLowerCase().includes(term); }
function box(node, left, width, ancestor) {
  const div = document.createElement('div');
  div.className = 'box' + (ancestor ? ' ancestor' : '') + (matches(node) ? ' match' : '');
  div.style.left = left + 'px';
  div.style.width = width + 'px';
  // Root at the bottom, callees above their callers, as flame graphs are drawn.
  div.style.top = ((maxDepth - node.depth) * rowHeight) + 'px';
  div.style.background = node === root ? '#bbb' : hue(node.name);
  div.textContent = width > 30 ? node.name : '';
  div.title = describe(node);
  div.dataset.name = node.name;
  div.dataset.value = String(node.value);
  div.dataset.depth = String(node.depth);
  div.addEventListener('mouseenter', () => { info.textContent = describe(node); });
  div.addEventListener('click', (event) => { event.stopPropagation(); zoom(node); });
  node.element = div;
  graph.appendChild(div);
}
function draw() {
  graph.replaceChildren();
  const width = graph.clientWidth;
  for (let a = zoomedTo; a !== null; a = a.parent) box(a, 0, width, a !== zoomedTo);
  (function place(node, left, width) {
    let x = left;
    for (const child of node.children) {
      const w = node.value === 0 ? 0 : width * child.value / node.value;
      if (w >= 0.5) {
        box(child, x, w, false);
        place(child, x, w);
      }
      x += w;
    }
  })(zoomedTo, 0, width);
  document.getElementById('reset').disabled = zoomedTo === root;
  document.getElementById('zoomed').textContent = zoomedTo === root ? '' : 'Zoomed to: ' + zoomedTo.name;
  showMatches();
}
function zoom(node) {
  zoomedTo = node;
  draw();
  info.textContent = describe(node);
}
function showMatches() {
  const out = document.getElementById('matched');
  if (term === '') { out.textContent = ''; return; }
  // Each matching frame counted once: a match inside another match is already in its value.
  let total = 0, frames = 0;
  (function walk(node, covered) {
    const hit = node !== root && matches(node);
    if (hit) ++frames;
    if (hit && !covered) total += node.value;
    node.children.forEach((child) => walk(child, covered || hit));
  })(root, false);
  out.textContent = 'Matched: ' + format(total) + ' ' + data.unit + ' (' + percent(total, root.value) +
    ' of the total) in ' + format(frames) + (frames === 1 ? ' frame' : ' frames');
}
document.getElementById('reset').addEventListener('click', () => zoom(root));
document.getElementById('search').addEventListener('input', (event) => {
  term = event.target.value.trim().toLowerCase();
  draw();
});
window.addEventListener('resize', draw);
draw();
</script></body></html>
)";

}  // namespace

FlameTree build_flame_tree(const Profile& profile, Metric metric, bool inverted) {
  Building b;
  b.nodes.push_back(FlameNode{"all", 0, {}});
  b.child_index.emplace_back();
  std::vector<std::string_view> frames;
  for (const ProgramPoint& pp : profile.pps) {
    const std::uint64_t value = metric_value(profile, pp, metric);
    if (value == 0) {
      continue;
    }
    frames.clear();
    for (std::string_view frame : pp.frames) {
      frames.push_back(format::without_address(frame));
    }
    if (!inverted) {
      std::reverse(frames.begin(), frames.end());  // the file lists the allocation site first
    }
    std::size_t at = 0;
    b.nodes[0].value += value;
    for (std::string_view frame : frames) {
      at = b.child(at, frame);
      b.nodes[at].value += value;
    }
  }
  FlameTree tree{std::move(b.nodes)};
  for (FlameNode& node : tree.nodes) {
    std::sort(node.children.begin(), node.children.end(), [&tree](std::size_t x, std::size_t y) {
      const FlameNode& a = tree.nodes[x];
      const FlameNode& c = tree.nodes[y];
      return a.value != c.value ? a.value > c.value : a.name < c.name;
    });
  }
  return tree;
}

std::string folded_stacks(const FlameTree& tree) {
  std::string out;
  std::string path;
  fold(tree, 0, path, out);
  return out;
}

std::string flame_graph_page(const FlameTree& tree, const std::string& title, const std::string& metric_label,
                             const std::string& unit, bool inverted) {
  std::map<std::string_view, std::size_t> names;
  nlohmann::json data;
  data["tree"] = node_json(tree, 0, names);
  std::vector<std::string_view> by_index(names.size());
  for (const auto& [name, index] : names) {
    by_index[index] = name;
  }
  data["names"] = by_index;
  data["title"] = title;
  data["metric"] = metric_label;
  data["unit"] = unit;
  data["inverted"] = inverted;
  std::string json = data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  // Inside <script>, "</" could end the element early: JSON lets '/' be written "\/".
  std::string safe;
  safe.reserve(json.size());
  for (std::size_t i = 0; i < json.size(); ++i) {
    safe += json[i];
    if (json[i] == '<' && i + 1 < json.size() && json[i + 1] == '/') {
      safe += "\\";
    }
  }
  return kPageHead + safe + kPageTail;
}

}  // namespace dhat::viewer
