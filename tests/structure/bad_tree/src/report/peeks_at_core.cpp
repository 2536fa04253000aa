// A report file that reaches into the recorder: check_layers.sh must refuse it.
#include "core/recorder.hpp"
#include "report/program_points.hpp"
