// The Beast adapter is header-only (forrealtime/beast.hpp); this file checks that it compiles.
#include "forrealtime/beast.hpp"
