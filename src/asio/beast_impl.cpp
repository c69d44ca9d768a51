// Beast compiled once (BOOST_BEAST_SEPARATE_COMPILATION); see asio_impl.cpp.
#include <boost/beast/src.hpp>
