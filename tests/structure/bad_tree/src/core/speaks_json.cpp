// A core file that includes nlohmann: check_layers.sh must refuse it.
#include <nlohmann/json.hpp>

#include "core/recorder.hpp"
#include "format/counters.hpp"
