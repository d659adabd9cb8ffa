#pragma once

/// Test certificates, generated at run time with the OpenSSL API so that no private key is ever
/// committed and nothing expires in the repository. One set per test process, written as PEM
/// files into a temporary directory that is removed at exit.
///
///   ca_file                  trusted test CA (pass as ClientOptions::ca_file)
///   server_cert/key_file     leaf for DNS:localhost and IP:127.0.0.1, signed by the CA
///   localhost_only_cert/key  leaf for DNS:localhost only (host-name mismatch on 127.0.0.1)
///   untrusted_ca_file        a second CA that signed nothing the servers use: a client trusting
///                            only it must fail verification

#include <string>

#include "qfscale/http/server.h"
#include "qfscale/util/result.h"

namespace qfscale::test {

struct TestPki {
  std::string dir;
  std::string ca_file;
  std::string server_cert_file;
  std::string server_key_file;
  std::string localhost_only_cert_file;
  std::string localhost_only_key_file;
  std::string untrusted_ca_file;

  /// ServerOptions::tls for the 127.0.0.1/localhost leaf.
  [[nodiscard]] http::TlsFiles server_tls() const { return {server_cert_file, server_key_file}; }
  [[nodiscard]] http::TlsFiles localhost_only_tls() const {
    return {localhost_only_cert_file, localhost_only_key_file};
  }
};

/// Generates a fresh set into `dir` (which must exist). EC P-256 keys, SHA-256 signatures,
/// valid from one hour ago for ten years.
[[nodiscard]] Result<TestPki> generate_test_pki(const std::string& dir);

/// The process-wide set, generated on first use into its own temporary directory.
/// Aborts the test binary if generation fails. Thread-safety: safe to call from any thread.
[[nodiscard]] const TestPki& test_pki();

}  // namespace qfscale::test
