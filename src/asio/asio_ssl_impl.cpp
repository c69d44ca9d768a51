// Asio's SSL support compiled once (BOOST_ASIO_SEPARATE_COMPILATION), for the gateway's TLS
// listener (http/tls.cpp) and the Redis store's rediss:// connections; see asio_impl.cpp.
#include <boost/asio/ssl/impl/src.hpp>
