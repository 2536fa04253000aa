// How text reaches the public API (src/api) from the layers under it.
//
// Contract: the API's code is compiled outside the sealed object (cmake/DhatSealedObject.cmake),
// with the program's operator new, and the layers inside it with the profiler's own
// (src/hooks/profiler_new.cpp). A std::string made on one side and freed on the other would be
// freed by the wrong allocator. So what the API calls in the layers takes values, views and
// const references to the program's objects only, and returns values; text comes back through a
// TextSink, which the API's side appends to a string of its own. Calls happen on the caller's
// thread, before the function returns; `text` is valid only during the call.
#pragma once

#include <cstddef>

namespace dhat::runtime {

using TextSink = void (*)(void* context, const char* text, std::size_t size);

}  // namespace dhat::runtime
