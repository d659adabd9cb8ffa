#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>

#include <doctest/doctest.h>
#include <sys/stat.h>

#include "qfscale/controller/config.h"

#include "support/temp_dir.h"

namespace qfscale::controller {
namespace {

constexpr std::string_view kAk = "ak-7f3c9e1d2b4a";
constexpr std::string_view kSk = "sk-0d5e8a7b6c1f2e3d";

void write(const std::string& path, std::string_view text, mode_t mode) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
  }
  REQUIRE(::chmod(path.c_str(), mode) == 0);
}

/// Sets or unsets an environment variable for one scope, restoring the old value.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;  // NOLINT(concurrency-mt-unsafe)
    set(value);
  }
  ~ScopedEnv() { set(old_); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;
  ScopedEnv(ScopedEnv&&) = delete;
  ScopedEnv& operator=(ScopedEnv&&) = delete;

 private:
  void set(const std::optional<std::string>& v) {
    if (v) {
      ::setenv(name_, v->c_str(), 1);  // NOLINT(concurrency-mt-unsafe): tests are single-threaded
    } else {
      ::unsetenv(name_);  // NOLINT(concurrency-mt-unsafe)
    }
  }
  const char* name_;
  std::optional<std::string> old_;
};

void check_no_secret(const Error& e) {
  const auto text = e.to_string();
  CHECK(text.find(kAk) == std::string::npos);
  CHECK(text.find(kSk) == std::string::npos);
}

TEST_SUITE("controller") {
  TEST_CASE("credentials: a private file is read; one readable by others is refused") {
    test::TempDir dir("qfscale-credentials-");
    const auto path = dir.file("ak-sk");
    const std::string text = fmt::format(
        "# Qianfan access key pair\n\nQIANFAN_ACCESS_KEY={}\nexport QIANFAN_SECRET_KEY=\"{}\"\n",
        kAk, kSk);
    struct Case {
      std::string_view name;
      mode_t mode;
      bool accepted;
      std::string_view mode_text;
    };
    const Case cases[] = {
        {"0600 owner only", 0600, true, ""},
        {"0400 read-only owner", 0400, true, ""},
        {"0640 group can read", 0640, false, "0640"},
        {"0644 world readable", 0644, false, "0644"},
        {"0604 others can read", 0604, false, "0604"},
        {"0610 group can execute", 0610, false, "0610"},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      write(path, text, c.mode);
      auto got = load_credentials(QianfanConfig{.credentials_file = path});
      if (c.accepted) {
        REQUIRE_MESSAGE(got.has_value(), (got ? "" : got.error().to_string()));
        CHECK(got->access_key == kAk);
        CHECK(got->secret_key == kSk);  // quotes stripped
        continue;
      }
      REQUIRE_FALSE(got.has_value());
      CHECK(got.error().code == ErrorCode::InvalidInput);
      CHECK(got.error().message ==
            fmt::format("credentials file {} has mode {}, which lets group or others access it; "
                        "run: chmod 600 {}",
                        path, c.mode_text, path));
      check_no_secret(got.error());
    }
  }

  TEST_CASE("credentials: malformed files are refused without echoing any value") {
    test::TempDir dir("qfscale-credentials-");
    const auto path = dir.file("ak-sk");
    struct Case {
      std::string_view name;
      std::string text;
      std::string want;  ///< the message after "credentials file <path> "
    };
    const Case cases[] = {
        {"secret missing", fmt::format("QIANFAN_ACCESS_KEY={}\n", kAk),
         "does not set QIANFAN_SECRET_KEY"},
        {"access missing", fmt::format("QIANFAN_SECRET_KEY={}\n", kSk),
         "does not set QIANFAN_ACCESS_KEY"},
        {"a bare secret", fmt::format("QIANFAN_ACCESS_KEY={}\n{}\n", kAk, kSk),
         "line 2: is not KEY=VALUE, must set QIANFAN_ACCESS_KEY or QIANFAN_SECRET_KEY"},
        {"unknown key", fmt::format("QIANFAN_ACCESS_KEY={}\nAK_{}=1\n", kAk, kSk),
         "line 2: sets an unknown key, must set QIANFAN_ACCESS_KEY or QIANFAN_SECRET_KEY"},
        {"twice", fmt::format("QIANFAN_ACCESS_KEY={}\nQIANFAN_ACCESS_KEY={}\n", kAk, kSk),
         "line 2: sets QIANFAN_ACCESS_KEY a second time"},
        {"empty value", "QIANFAN_ACCESS_KEY=\n",
         "line 1: sets QIANFAN_ACCESS_KEY to an empty value"},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      write(path, c.text, 0600);
      auto got = load_credentials(QianfanConfig{.credentials_file = path});
      REQUIRE_FALSE(got.has_value());
      CHECK(got.error().message == fmt::format("credentials file {} {}", path, c.want));
      check_no_secret(got.error());
    }
    auto missing = load_credentials(QianfanConfig{.credentials_file = dir.file("none")});
    REQUIRE_FALSE(missing.has_value());
    CHECK(missing.error().message.find("No such file") != std::string::npos);
  }

  TEST_CASE("credentials: without a file, the environment variables") {
    {
      ScopedEnv ak("QIANFAN_ACCESS_KEY", std::string(kAk));
      ScopedEnv sk("QIANFAN_SECRET_KEY", std::string(kSk));
      auto got = load_credentials(QianfanConfig{});
      REQUIRE(got.has_value());
      CHECK(got->access_key == kAk);
      CHECK(got->secret_key == kSk);
    }
    {
      ScopedEnv ak("QIANFAN_ACCESS_KEY", std::string(kAk));
      ScopedEnv sk("QIANFAN_SECRET_KEY", std::nullopt);
      auto got = load_credentials(QianfanConfig{});
      REQUIRE_FALSE(got.has_value());
      CHECK(got.error().message == "QIANFAN_SECRET_KEY is not set or empty");
      check_no_secret(got.error());
    }
  }
}

}  // namespace
}  // namespace qfscale::controller
