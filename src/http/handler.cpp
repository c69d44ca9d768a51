// handle(): the subscribe endpoint of PROTOCOL.md over any SseSink.
#include "forrealtime/handler.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/dispatch.hpp>

#include "auth/cors.hpp"
#include "core/events.hpp"
#include "core/query.hpp"
#include "http/session.hpp"
#include "realtime/core.hpp"

namespace forrealtime {

namespace asio = boost::asio;

asio::awaitable<void> Handler::operator()(Request req, std::shared_ptr<SseSink> sink) const {
  auto& core = *realtime_->core();
  auto& log = *core.log;
  // Every answer, refusals included, carries the CORS headers, so that a page can read them.
  auto cors = auth::cors_response_headers(
      core.options.cors_origins, core.options.allow_origin,
      req.header ? req.header("origin") : std::optional<std::string_view>{});
  auto respond = [&](Response r) {
    for (auto& h : cors) r.headers.push_back(h);
    sink->respond(std::move(r));
  };
  if (req.method != "GET") {
    log.info("subscribe refused: method {} not allowed", req.method);
    auto r = Response::json(405, core::error_body("method not allowed; use GET"));
    r.headers.emplace_back("Allow", "GET");
    respond(std::move(r));
    co_return;
  }
  auto parsed = core::parse_subscribe(core::query_of(req.target),
                                      core.options.limits.max_channels_per_connection);
  if (auto* err = std::get_if<core::QueryError>(&parsed)) {
    if (err->message.starts_with("too many channels"))
      core.hub->metrics().hit(metrics::Limit::channels_per_stream);
    log.info("subscribe refused (400): {}", err->message);
    respond(Response::json(400, core::error_body(err->message)));
    co_return;
  }
  auto& sub = std::get<core::SubscribeRequest>(parsed);
  // A plain EventSource resumes with the last `id:` it saw. Ids are per channel, so it
  // stands for an ack only when the stream has one channel; the later of it and the URL's.
  if (sub.channels.size() == 1 && req.header) {
    if (auto h = req.header("last-event-id")) {
      if (auto id = StreamId::parse(*h); id && (!sub.last_acks[0] || *sub.last_acks[0] < *id))
        sub.last_acks[0] = *id;
    }
  }
  if (core.shutting_down.load()) {
    respond(Response::json(503, core::error_body("the server is shutting down")));
    co_return;
  }
  std::uint64_t grant_expires_ms = 0;
  req.limit_stream = [&grant_expires_ms](std::uint64_t ms) {
    if (ms && (!grant_expires_ms || ms < grant_expires_ms)) grant_expires_ms = ms;
  };
  std::string subject;
  req.set_subject = [&subject](std::string s) { subject = std::move(s); };
  if (middleware_) {
    std::optional<Response> rejected;
    try {
      auto op = middleware_(req, sub.channels);
      rejected = co_await std::move(op);
    } catch (const std::exception& e) {
      log.error("subscribe middleware threw: {}", e.what());
      respond(Response::json(500, core::error_body("internal error in middleware")));
      co_return;
    } catch (...) {
      log.error("subscribe middleware threw something that is not a std::exception");
      sink->respond(Response::json(500, core::error_body("internal error in middleware")));
      co_return;
    }
    if (rejected) {
      log.info("subscribe refused by middleware ({})", rejected->status);
      respond(std::move(*rejected));
      co_return;
    }
  }
  Response head;
  head.headers.emplace_back("Cache-Control", "no-cache, no-transform");
  head.headers.emplace_back("X-Accel-Buffering", "no");
  for (auto& h : cors) head.headers.push_back(h);
  auto& shard = core.hub->shard_for(sink->get_executor());
  detail::StreamSettings settings{core.options.max_duration,
                                  core.options.limits.queue_soft_bytes,
                                  core.options.limits.queue_hard_bytes,
                                  grant_expires_ms,
                                  std::move(subject),
                                  core.options.limits.max_replay_bytes};
  auto session = std::make_shared<detail::SseSession>(*core.hub, shard, std::move(sink),
                                                      std::move(sub), settings);
  asio::dispatch(shard.executor(), [session, head = std::move(head)] { session->start(head); });
}

Handler handle(Realtime& realtime, Middleware middleware) {
  return Handler(realtime, std::move(middleware));
}

Handler handle(Realtime& realtime, SyncMiddleware middleware) {
  if (!middleware) return Handler(realtime, {});
  return Handler(realtime,
                 [m = std::move(middleware)](const Request& r, const std::vector<std::string>& ch)
                     -> asio::awaitable<std::optional<Response>> { co_return m(r, ch); });
}

}  // namespace forrealtime
