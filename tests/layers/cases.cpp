// One include per case (see CMakeLists.txt): the controls are edges the layering allows, the
// others go upwards and must not compile.
#if defined(CASE_HUB_OK)
#include "core/stream_start.hpp"
#include "hub/hub.hpp"
#elif defined(CASE_HTTP_OK)
#include "http/session.hpp"
#elif defined(CASE_GATEWAY_OK)
#include "http/router.hpp"
#include "http/session.hpp"
#include "realtime/core.hpp"
#elif defined(CASE_HUB_INCLUDES_HTTP)
#include "http/session.hpp"
#elif defined(CASE_HUB_INCLUDES_REALTIME)
#include "realtime/core.hpp"
#elif defined(CASE_CORE_INCLUDES_HUB)
#include "hub/hub.hpp"
#elif defined(CASE_CORE_INCLUDES_ASIO_GLUE)
#include "store/await.hpp"
#elif defined(CASE_REALTIME_INCLUDES_HTTP)
#include "http/session.hpp"
#elif defined(CASE_HTTP_INCLUDES_GATEWAY)
#include "http/router.hpp"
#elif defined(CASE_MEMORY_STORE_INCLUDES_HUB) || defined(CASE_REDIS_INCLUDES_HUB)
#include "hub/hub.hpp"
#else
#error "unknown case"
#endif

int main() {}
