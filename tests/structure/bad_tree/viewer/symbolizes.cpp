// dhat-view reaching into the report: check_layers.sh must refuse it.
#include "commands.hpp"
#include "report/summary.hpp"
