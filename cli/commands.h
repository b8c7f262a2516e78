// Operator commands of the rostrum binary.
#pragma once

#include "core/config.h"

namespace cli {

int migrate_command(const core::Config& cfg);
int check_config_command(const core::Config& cfg);
// user create-admin EMAIL NAME | promote EMAIL | demote EMAIL | deactivate EMAIL | activate EMAIL
int user_command(const core::Config& cfg, int argc, char** argv);

// transcribe FILE [--json]
int transcribe_command(const core::Config& cfg, int argc, char** argv);

}  // namespace cli
