// `forrealtime healthcheck`: one probe of a running gateway at the address its own settings
// give (the container image's HEALTHCHECK, a supervisor's check). The settings are serve's:
// flags, environment and config file with serve's precedence, or, with --process PID, the
// arguments and environment of that running `forrealtime serve` (so the probe follows a port
// set by a flag after the image name, in the environment or in the config file).
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace forrealtime::cli {

struct ServeSettings;

struct HealthcheckOptions {
  bool ready = false;    // /readyz instead of /livez
  int timeout_secs = 2;  // for the whole probe: connect, TLS, request, answer
  // > 0: the settings of this running `forrealtime serve`, or of its child that is (when it
  // is an init such as tini).
  long process = 0;
};

/** Adds healthcheck's own options (--ready, --timeout, --process) to `app`. */
void add_healthcheck_options(CLI::App& app, HealthcheckOptions& o);

/** Probes /livez (or /readyz) where the settings say the gateway listens: its admin listener
 *  when it has one, else the main one (https when TLS is configured; the certificate is not
 *  checked, the probe is of our own process on this host); 0.0.0.0 and :: are probed on
 *  loopback. 0 on a 200, 1 otherwise (the reason on stderr), as Docker's HEALTHCHECK expects. */
int run_healthcheck(CLI::App& app, ServeSettings& s, const HealthcheckOptions& o);

}  // namespace forrealtime::cli
