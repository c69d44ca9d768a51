// TLS for the gateway's main listener (`--tls-cert`, `--tls-key`): the server context, loaded
// from PEM files and replaced on reload (SIGHUP) without touching open connections (each holds
// the context it was accepted with), and an SseSink over a TLS stream. Asio SSL on OpenSSL;
// only connection.cpp and gateway.cpp include this file.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "forrealtime/handler.hpp"

namespace forrealtime::gateway {

using TlsStream = boost::asio::ssl::stream<boost::beast::tcp_stream>;
using TlsContextPtr = std::shared_ptr<boost::asio::ssl::context>;

/** The current server context. Thread-safe. */
class TlsConfig {
 public:
  /** Loads the certificate chain and the private key; throws std::runtime_error saying which
   *  file failed and why. */
  TlsConfig(std::string cert_file, std::string key_file);

  /** The context new connections use. */
  TlsContextPtr current() const;
  /** Loads the files again; on success new connections use them, on failure (thrown, as in the
   *  constructor) the old context stays. Open connections keep theirs either way. */
  void reload();

 private:
  TlsContextPtr load() const;
  std::string cert_file_, key_file_;
  mutable std::mutex mu_;
  TlsContextPtr current_;
};

/** An SseSink over a TLS stream whose request has been read; it keeps `context` alive. */
std::shared_ptr<SseSink> make_tls_sink(TlsContextPtr context, TlsStream stream, int version);

}  // namespace forrealtime::gateway
