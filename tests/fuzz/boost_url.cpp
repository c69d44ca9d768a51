// Boost.URL compiled into the fuzz targets from its sources, so that its percent-decoding (used
// by the query parsers) is instrumented like our own code instead of a call into the system
// library that the fuzzer cannot see into.
#include <boost/url/src.hpp>
