// dhat-view open: serves the system's stock dh_view.html, the profile and a small page of our
// own on 127.0.0.1, which hands the profile to the viewer's own file input, so the profile opens
// already loaded. The viewer is Valgrind's (GPL): it is found on the system, never copied here.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "commands.hpp"
#include "format/stock_viewer.hpp"
#include "profile_file.hpp"
#include "text_format.hpp"

namespace dhat::viewer {

namespace {

const char* kHelp =
    "usage: dhat-view open FILE [--viewer DH_VIEW.HTML] [--port N] [--no-browser] [--seconds N]\n"
    "       dhat-view open --print-viewer\n"
    "  Serves FILE and the stock dh_view.html on 127.0.0.1 (an unused port unless --port) and\n"
    "  opens it, already loaded, in a browser when one is available (xdg-open), else prints the\n"
    "  URL. The viewer is $DHAT_VIEWER or Valgrind's install. --seconds stops serving after N s.\n"
    "  --print-viewer prints the path of the dh_view.html it would serve (exit 2 if there is none).\n";

// Our page: the stock viewer's script and style, then the profile handed to its file input
// exactly as if the user had picked it with "Load...".
const char* kPage = R"(<!DOCTYPE html>
<html><head><meta charset="UTF-8"><title>dhat-view</title>
<link rel="stylesheet" href="dh_view.css"><script src="dh_view.js"></script></head>
<body onload="onLoad(); dhatViewLoad();">
<script>
async function dhatViewLoad() {
  const response = await fetch("profile.json");
  const file = new File([await response.blob()], decodeURIComponent("NAME"));
  const transfer = new DataTransfer();
  transfer.items.add(file);
  const input = document.querySelector("input[type=file]");
  input.files = transfer.files;
  input.dispatchEvent(new Event("change"));
}
</script></body></html>
)";

std::string read_file(const std::string& path, bool* ok) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  *ok = static_cast<bool>(in) || in.eof();
  return text.str();
}

std::string url_encode(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '.' || c == '-' || c == '_') {
      out += static_cast<char>(c);
    } else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      out += hex;
    }
  }
  return out;
}

void respond(int client, int status, const char* type, const std::string& body) {
  std::string head = "HTTP/1.0 " + std::to_string(status) + (status == 200 ? " OK" : " Not Found") +
                     "\r\nContent-Type: " + type + "\r\nContent-Length: " + std::to_string(body.size()) +
                     "\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n";
  const std::string all = head + body;
  std::size_t sent = 0;
  while (sent < all.size()) {
    const ssize_t n = send(client, all.data() + sent, all.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      break;
    }
    sent += static_cast<std::size_t>(n);
  }
}

void open_browser(const std::string& url) {
  if (std::getenv("DISPLAY") == nullptr && std::getenv("WAYLAND_DISPLAY") == nullptr) {
    std::cout << "dhat-view: no display here; open the URL above in a browser\n" << std::flush;
    return;
  }
  const pid_t child = fork();
  if (child == 0) {
    setsid();
    execlp("xdg-open", "xdg-open", url.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
}

}  // namespace

int open_command(const Args& args) {
  std::string path, viewer_arg;
  long port = 0;
  long seconds = -1;
  bool browser = true;
  bool print_viewer = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      std::cout << kHelp;
      return 0;
    } else if (a == "--viewer" && i + 1 < args.size()) {
      viewer_arg = args[++i];
    } else if ((a == "--port" || a == "--seconds") && i + 1 < args.size()) {
      std::uint64_t value = 0;
      if (!parse_count(args[++i], &value, 999'999) || (a == "--port" && value > 65535)) {
        return usage_error(a + " needs a whole number, not '" + args[i] + "'");
      }
      (a == "--port" ? port : seconds) = static_cast<long>(value);
    } else if (a == "--no-browser") {
      browser = false;
    } else if (a == "--print-viewer") {
      print_viewer = true;
    } else if (!a.empty() && a[0] == '-') {
      return usage_error("open: unknown option '" + a + "'\n" + kHelp);
    } else if (path.empty()) {
      path = a;
    } else {
      return usage_error("open takes one file");
    }
  }
  const std::string viewer = format::find_stock_viewer(viewer_arg);
  if (print_viewer && viewer.empty()) {
    return usage_error("cannot find Valgrind's dh_view.html (install valgrind, or give --viewer / DHAT_VIEWER)");
  }
  if (print_viewer) {
    std::cout << viewer << "\n";
    return 0;
  }
  if (path.empty()) {
    return usage_error(std::string("open needs a file\n") + kHelp);
  }
  static_cast<void>(load_profile(path));  // refuse anything that is not a DHAT file before serving it
  if (viewer.empty()) {
    return usage_error("cannot find Valgrind's dh_view.html (install valgrind, or give --viewer / DHAT_VIEWER)");
  }
  const std::string dir = viewer.substr(0, viewer.find_last_of('/') + 1);
  bool ok_profile = false, ok_js = false, ok_css = false;
  const std::string profile = read_file(path, &ok_profile);
  const std::string js = read_file(dir + "dh_view.js", &ok_js);
  const std::string css = read_file(dir + "dh_view.css", &ok_css);
  if (!ok_js) {
    return usage_error("cannot read " + dir + "dh_view.js next to the viewer");
  }
  std::string page = kPage;
  const std::string name = url_encode(path.substr(path.find_last_of('/') + 1));
  page.replace(page.find("NAME"), 4, name);

  const int server = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int yes = 1;
  setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  socklen_t length = sizeof address;
  if (server < 0 || bind(server, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      listen(server, 16) != 0 || getsockname(server, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    return usage_error("cannot listen on 127.0.0.1:" + std::to_string(port) + ": " + std::strerror(errno));
  }
  const std::string url = "http://127.0.0.1:" + std::to_string(ntohs(address.sin_port)) + "/";
  std::cout << "dhat-view: serving " << path << " at " << url << " (Ctrl-C to stop)\n" << std::flush;
  if (browser) {
    open_browser(url);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds < 0 ? 0 : seconds);
  for (;;) {
    int timeout_ms = -1;
    if (seconds >= 0) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        break;
      }
      timeout_ms = static_cast<int>(left.count());
    }
    pollfd waiting{server, POLLIN, 0};
    if (poll(&waiting, 1, timeout_ms) <= 0) {
      continue;
    }
    const int client = accept4(server, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) {
      continue;
    }
    char request[2048];
    const ssize_t n = recv(client, request, sizeof request - 1, 0);
    std::string first_line = n > 0 ? std::string(request, static_cast<std::size_t>(n)) : "";
    first_line = first_line.substr(0, first_line.find('\r'));
    const std::size_t start = first_line.find(' ') + 1;
    std::string target = first_line.substr(start, first_line.find(' ', start) - start);
    target = target.substr(0, target.find('?'));
    if (target == "/" || target == "/index.html") {
      respond(client, 200, "text/html; charset=utf-8", page);
    } else if (target == "/dh_view.js") {
      respond(client, 200, "text/javascript; charset=utf-8", js);
    } else if (target == "/dh_view.css") {
      respond(client, 200, "text/css", ok_css ? css : "");
    } else if (target == "/profile.json") {
      respond(client, 200, "application/json", profile);
    } else {
      respond(client, 404, "text/plain", "not found\n");
    }
    close(client);
  }
  close(server);
  return 0;
}

}  // namespace dhat::viewer
