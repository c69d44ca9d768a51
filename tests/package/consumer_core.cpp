// The core component alone (no hiredis or libpq on the machine): emit, history and a
// server-side subscription on the embedded store.
#include <forrealtime/realtime.hpp>

#include <chrono>
#include <future>
#include <iostream>

int main() {
  forrealtime::Realtime rt;
  auto ch = rt.channel("pkg");
  std::promise<forrealtime::Event> got;
  // With a history start the subscription has no gap: an event emitted right after subscribe()
  // returns is delivered (without one it is live only once armed, a moment later).
  auto sub = ch.subscribe({.on_data = [&](const forrealtime::Event& e) { got.set_value(e); },
                           .history = forrealtime::HistoryQuery{}});
  auto id = ch.emit("pkg.check", {{"ok", true}});
  auto f = got.get_future();
  bool delivered = f.wait_for(std::chrono::seconds(5)) == std::future_status::ready;
  bool ok = id && delivered && f.get().id == *id && ch.history() && ch.history()->size() == 1;
  std::cout << (ok ? "core package ok" : "core package broken") << std::endl;
  return ok ? 0 : 1;
}
