/* Allocation sites in C code, compiled as C: the hooks must see C callers too. */
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) void* c_site_malloc(size_t bytes) { return malloc(bytes); }

__attribute__((noinline)) char* c_site_strdup(const char* text) { return strdup(text); }
