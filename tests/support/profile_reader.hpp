// Test support: read a DHAT file back with nlohmann_json and find program points by frame.
//
// Contract: throws (failing the test) on a missing or malformed file. Program points are found
// by a substring of a frame string, usually a distinctive function name. The counters' keys and
// the frame text come from src/format, as the profiler writes them.
#pragma once

#include <cstdint>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "format/counters.hpp"
#include "format/dhat_file.hpp"
#include "format/frame_text.hpp"

namespace dhat_test {

// The nine counters (n.tb, n.gb, ...) summed over some program points.
struct PpNumbers : dhat::format::PpTotals {
  std::size_t count = 0;  // program points that were summed
};

class Profile {
 public:
  static Profile load(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
      throw std::runtime_error("cannot open profile " + path);
    }
    Profile profile;
    profile.doc = nlohmann::json::parse(in);
    return profile;
  }

  std::string frame(const nlohmann::json& pp, std::size_t i) const {
    return doc[dhat::format::kFrameTableKey][pp[dhat::format::kFramesKey][i].get<std::size_t>()].get<std::string>();
  }

  // The function part of "0xADDR: function (file:line)" or "0xADDR: function (in object)".
  static std::string function_of(const std::string& frame_text) {
    const std::string function = dhat::format::parse_frame(frame_text).function;
    return function.empty() ? "???" : function;
  }

  // True for `name` itself and for a demangled C++ signature of it ("name(int)").
  static bool is_function(const std::string& frame_text, const std::string& name) {
    const std::string function = function_of(frame_text);
    return function == name || function.rfind(name + "(", 0) == 0;
  }

  // Program points whose innermost frame (the caller of the allocation function) is `function`.
  std::vector<nlohmann::json> allocated_in(const std::string& function) const {
    std::vector<nlohmann::json> found;
    for (const auto& pp : doc[dhat::format::kProgramPointsKey]) {
      if (!pp[dhat::format::kFramesKey].empty() && is_function(frame(pp, 0), function)) {
        found.push_back(pp);
      }
    }
    return found;
  }

  // Program points with any frame containing `needle`.
  std::vector<nlohmann::json> passing_through(const std::string& needle) const {
    std::vector<nlohmann::json> found;
    for (const auto& pp : doc[dhat::format::kProgramPointsKey]) {
      for (std::size_t i = 0; i < pp[dhat::format::kFramesKey].size(); ++i) {
        if (frame(pp, i).find(needle) != std::string::npos) {
          found.push_back(pp);
          break;
        }
      }
    }
    return found;
  }

  static PpNumbers sum(const std::vector<nlohmann::json>& pps) {
    PpNumbers n;
    for (const auto& pp : pps) {
      for (const dhat::format::CounterField& field : dhat::format::kCounterFields) {
        n.*field.member += pp.value(field.key, 0ULL);
      }
      ++n.count;
    }
    return n;
  }

  PpNumbers at(const std::string& needle) const { return sum(allocated_in(needle)); }

  nlohmann::json doc;
};

}  // namespace dhat_test
