// Asio compiled once for the whole project (BOOST_ASIO_SEPARATE_COMPILATION): every other
// translation unit includes Asio's headers without its implementation, which keeps the build
// fast on two cores.
#include <boost/asio/impl/src.hpp>
