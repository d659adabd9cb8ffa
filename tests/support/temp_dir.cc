#include "support/temp_dir.h"

#include <cstdio>
#include <cstdlib>
#include <system_error>
#include <vector>

#include <stdlib.h>  // mkdtemp (POSIX)

namespace qfscale::test {

TempDir::TempDir(std::string prefix) {
  std::error_code ec;
  const auto base = std::filesystem::temp_directory_path(ec);
  std::string pattern =
      ((ec ? std::filesystem::path("/tmp") : base) / (prefix + "XXXXXX")).string();
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) {
    std::perror("qfscale test: mkdtemp");
    std::abort();
  }
  path_ = buf.data();
}

TempDir::~TempDir() {
  std::error_code ec;  // best effort: a leftover temp dir must not fail a test
  std::filesystem::remove_all(path_, ec);
}

}  // namespace qfscale::test
