// HTTP status reason phrases for the responses we write by hand.
#pragma once

#include <string_view>

#include <boost/system/error_code.hpp>

#include "forrealtime/errors.hpp"

namespace forrealtime::detail {

inline std::string_view reason_phrase(unsigned status) {
  switch (status) {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 507:
      return "Insufficient Storage";
    default:
      return "Status";
  }
}

/** The status of a failed emit or history read, by condition (errors.hpp): invalid input 400,
 *  a store limit 507, a store timeout whose outcome is unknown 504, any other failure 503. */
inline unsigned status_for(const boost::system::error_code& ec) {
  if (ec == condition::invalid_input) return 400;
  if (ec == condition::limit_reached) return 507;
  if (ec == condition::outcome_unknown) return 504;
  return 503;
}

}  // namespace forrealtime::detail
