// Test support: read a DHAT file back with nlohmann_json and find program points by frame.
//
// Contract: throws (failing the test) on a missing or malformed file. Program points are found
// by a substring of a frame string, usually a distinctive function name.
#pragma once

#include <cstdint>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace dhat_test {

struct PpNumbers {
  std::uint64_t tb = 0, tbk = 0, tl = 0, mb = 0, mbk = 0, gb = 0, gbk = 0, eb = 0, ebk = 0;
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
    return doc["ftbl"][pp["fs"][i].get<std::size_t>()].get<std::string>();
  }

  // The function part of "0xADDR: function (file:line)" or "0xADDR: function (in object)".
  static std::string function_of(const std::string& frame_text) {
    const std::size_t start = frame_text.find(": ");
    const std::size_t end = frame_text.rfind(" (");
    if (start == std::string::npos) {
      return frame_text;
    }
    return frame_text.substr(start + 2, end == std::string::npos || end < start ? std::string::npos : end - start - 2);
  }

  // True for `name` itself and for a demangled C++ signature of it ("name(int)").
  static bool is_function(const std::string& frame_text, const std::string& name) {
    const std::string function = function_of(frame_text);
    return function == name || function.rfind(name + "(", 0) == 0;
  }

  // Program points whose innermost frame (the caller of the allocation function) is `function`.
  std::vector<nlohmann::json> allocated_in(const std::string& function) const {
    std::vector<nlohmann::json> found;
    for (const auto& pp : doc["pps"]) {
      if (!pp["fs"].empty() && is_function(frame(pp, 0), function)) {
        found.push_back(pp);
      }
    }
    return found;
  }

  // Program points with any frame containing `needle`.
  std::vector<nlohmann::json> passing_through(const std::string& needle) const {
    std::vector<nlohmann::json> found;
    for (const auto& pp : doc["pps"]) {
      for (std::size_t i = 0; i < pp["fs"].size(); ++i) {
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
      n.tb += pp.value("tb", 0ULL);
      n.tbk += pp.value("tbk", 0ULL);
      n.tl += pp.value("tl", 0ULL);
      n.mb += pp.value("mb", 0ULL);
      n.mbk += pp.value("mbk", 0ULL);
      n.gb += pp.value("gb", 0ULL);
      n.gbk += pp.value("gbk", 0ULL);
      n.eb += pp.value("eb", 0ULL);
      n.ebk += pp.value("ebk", 0ULL);
      ++n.count;
    }
    return n;
  }

  PpNumbers at(const std::string& needle) const { return sum(allocated_in(needle)); }

  nlohmann::json doc;
};

}  // namespace dhat_test
