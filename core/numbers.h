// Numbers as text: the two spellings the project writes. One place, so that a session's
// progress reads the same in a response, an event and the job row.
#pragma once

#include <string>

namespace core {

// Three decimals ("0.500"): what clients see (progress, durations, word times).
std::string fixed3(double v);
// Every digit a double holds ("%.17g"): for values stored and read back exactly (SQL params).
std::string exact_number(double v);

}  // namespace core
