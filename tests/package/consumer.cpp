// Emits, reads history, and serves one gateway request: the installed package works.
#include <forrealtime/gateway.hpp>
#include <forrealtime/realtime.hpp>

#include <iostream>

int main() {
  forrealtime::Realtime rt;
  auto id = rt.channel("pkg").emit("pkg.check", {{"ok", true}});
  auto h = rt.channel("pkg").history();
  forrealtime::Gateway gw(rt, {.port = 0, .threads = 1});
  gw.start();
  bool ok = id && h && h->size() == 1 && gw.port() != 0;
  gw.stop();
  std::cout << (ok ? "package ok" : "package broken") << std::endl;
  return ok ? 0 : 1;
}
