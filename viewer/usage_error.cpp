// The one way every dhat-view command reports bad usage or input (commands.hpp), apart from
// main.cpp so that the commands depend on it and main on them, not on each other.
#include <iostream>
#include <string>

#include "commands.hpp"

namespace dhat::viewer {

int usage_error(const std::string& message) {
  std::cerr << "dhat-view: " << message << (message.empty() || message.back() == '\n' ? "" : "\n");
  return 2;
}

}  // namespace dhat::viewer
