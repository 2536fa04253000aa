/* A plain program (no profiler linked) that loads a plugin with dlopen and runs it:
 *   plugin_host PLUGIN.so PROFILE.json
 * Exit 0 when the plugin ran, 3 when dlopen failed (dlerror() on stderr), 4 without its entry. */
#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char** argv) {
  if (argc != 3) {
    return 2;
  }
  void* plugin = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (plugin == NULL) {
    fprintf(stderr, "plugin_host: %s\n", dlerror());
    return 3;
  }
  long (*run)(const char*) = (long (*)(const char*))dlsym(plugin, "plugin_run");
  if (run == NULL) {
    return 4;
  }
  run(argv[2]);
  return 0;
}
