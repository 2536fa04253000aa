#include "report/dhat_json.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

namespace dhat::report {

std::string to_dhat_json(const ProfileHeader& header, const ProgramPoints& points) {
  nlohmann::ordered_json doc;
  doc["dhatFileVersion"] = 2;
  doc["mode"] = header.mode;
  doc["verb"] = "Allocated";
  doc["bklt"] = !header.ad_hoc;
  doc["bkacc"] = false;
  if (header.ad_hoc) {
    doc["bu"] = "unit";
    doc["bsu"] = "units";
    doc["bksu"] = "events";
  }
  doc["tu"] = "µs";
  doc["Mtu"] = "s";
  if (!header.ad_hoc) {
    doc["tuth"] = 10;  // "short-lived": 10 µs, as dhat-rs
  }
  doc["cmd"] = header.cmd;
  doc["pid"] = header.pid;
  if (!header.ad_hoc) {
    doc["tg"] = header.tg_us;
  }
  doc["te"] = header.te_us;
  nlohmann::ordered_json pps = nlohmann::ordered_json::array();
  for (const ProgramPoint& point : points.pps) {
    const PpTotals& t = point.totals;
    if (header.ad_hoc) {
      pps.push_back({{"tb", t.tb}, {"tbk", t.tbk}, {"fs", point.frame_ids}});
      continue;
    }
    pps.push_back({{"tb", t.tb},
                   {"tbk", t.tbk},
                   {"tl", t.tl},
                   {"mb", t.mb},
                   {"mbk", t.mbk},
                   {"gb", t.gb},
                   {"gbk", t.gbk},
                   {"eb", t.eb},
                   {"ebk", t.ebk},
                   {"fs", point.frame_ids}});
  }
  doc["pps"] = std::move(pps);
  doc["ftbl"] = points.ftbl;
  if (!header.ad_hoc && !header.timeline.max_bytes.empty()) {
    doc["dhatCppTimeline"] = {{"bucketUs", header.timeline.bucket_us},
                              {"maxBytes", header.timeline.max_bytes},
                              {"endBytes", header.timeline.end_bytes}};
  }
  // One PP per line keeps the file small yet readable with grep and diff.
  std::string text = "{";
  bool first = true;
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    text += first ? "\n" : ",\n";
    first = false;
    text += nlohmann::ordered_json(it.key()).dump() + ":";
    if (it->is_array() && !it->empty()) {
      text += "[";
      for (std::size_t i = 0; i < it->size(); ++i) {
        text += (i == 0 ? "\n  " : ",\n  ") + (*it)[i].dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      }
      text += "\n]";
    } else {
      text += it->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
  }
  text += "\n}\n";
  return text;
}

std::string write_file_atomically(const std::string& path, const std::string& contents) {
  const std::string temporary = path + ".tmp." + std::to_string(getpid());
  const int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return std::strerror(errno);
  }
  std::size_t written = 0;
  while (written < contents.size()) {
    const ssize_t n = write(fd, contents.data() + written, contents.size() - written);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      std::string reason = n < 0 ? std::strerror(errno) : "short write";
      close(fd);
      unlink(temporary.c_str());
      return reason;
    }
    written += static_cast<std::size_t>(n);
  }
  if (close(fd) != 0) {
    std::string reason = std::strerror(errno);
    unlink(temporary.c_str());
    return reason;
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    std::string reason = std::strerror(errno);
    unlink(temporary.c_str());
    return reason;
  }
  return "";
}

}  // namespace dhat::report
