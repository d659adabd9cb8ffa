#include "qfscale/util/redact.h"

#include <string>
#include <string_view>

#include <doctest/doctest.h>

namespace qfscale::util {
namespace {

// A planted AK/SK pair in the shape of real BCE keys: 32 hex characters each.
constexpr std::string_view kAccess = "0b6e4f2a9c8d4e51a7f3b2c1d0e9f8a7";
constexpr std::string_view kSecret = "5f1c9e7a3b2d4c6e8f0a1b3c5d7e9f1a";

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

TEST_SUITE("util") {
  TEST_CASE("redact: looks_like_secret flags keys and key-naming words, not ids or prose") {
    struct Case {
      std::string_view name;
      std::string text;
      bool secret;
    };
    const Case cases[] = {
        {.name = "32 hex characters (an AK or SK)", .text = std::string(kSecret), .secret = true},
        {.name = "a credentials line", .text = "QIANFAN_SECRET_KEY=x", .secret = true},
        {.name = "key= in any case", .text = "api_Key=abc", .secret = true},
        {.name = "a password word", .text = "db PassWord here", .secret = true},
        {.name = "a bearer header", .text = "Bearer abc", .secret = true},
        {.name = "a PEM key", .text = "-----BEGIN PRIVATE KEY-----", .secret = true},
        // 20 token characters mixing letters and digits is the threshold; 19 is not.
        {.name = "20-character mixed run", .text = "abcdefghij012345678x", .secret = true},
        {.name = "19-character mixed run", .text = "abcdefghij01234567x", .secret = false},
        {.name = "a base64 key", .text = "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA+/x==", .secret = true},
        {.name = "a GitHub-style token",
         .text = "ghp_0123456789abcdefABCDEF0123456789abcd",
         .secret = true},
        {.name = "separators split runs", .text = "a+b/c=d_e-f0g1h2i3j4k5", .secret = false},
        {.name = "a path with a random temp name",
         .text = "/tmp/tmp.Ab3dE5gH9k/nodir/state.json",
         .secret = false},
        {.name = "a dated file name",
         .text = "qfscale-state-2024-01-01T00-00.json",
         .secret = false},
        {.name = "a UUID request id",
         .text = "4ab7a473-d293-46c1-8da0-e546aaf708ba",
         .secret = false},
        {.name = "a service id", .text = "svco-ktth9mkb5cqn", .secret = false},
        {.name = "letters only, long", .text = "averyveryverylongfieldname", .secret = false},
        {.name = "digits only, long", .text = "12345678901234567890123", .secret = false},
        {.name = "prose with short words",
         .text = "is not a mapping, must be 3 x",
         .secret = false},
        {.name = "a shipped policy name", .text = "latency-first", .secret = false},
        {.name = "empty", .text = "", .secret = false},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      CHECK(looks_like_secret(c.text) == c.secret);
    }
  }

  TEST_CASE("redact: excerpt bounds, escapes and hides") {
    struct Case {
      std::string_view name;
      std::string text;
      std::string want;
    };
    const Case cases[] = {
        {.name = "short text unchanged", .text = "balanced", .want = "balanced"},
        {.name = "40 characters kept whole",
         .text = std::string(40, 'a'),
         .want = std::string(40, 'a')},
        {.name = "41 characters cut at 40",
         .text = std::string(41, 'a'),
         .want = std::string(40, 'a') + "..."},
        {.name = "newline, tab and CR escaped", .text = "a\nb\tc\rd", .want = "a\\nb\\tc\\rd"},
        {.name = "ESC and DEL escaped (no terminal control)",
         .text = "\x1b[2J\x7f",
         .want = "\\x1b[2J\\x7f"},
        {.name = "NUL escaped", .text = std::string("a\0b", 3), .want = "a\\x00b"},
        {.name = "C1 CSI escaped",
         .text = "\xc2\x9b"
                 "31m",
         .want = "\\xc2\\x9b31m"},
        {.name = "UTF-8 kept and counted as characters", .text = "定制服务", .want = "定制服务"},
        {.name = "UTF-8 cut between characters",
         .text = std::string(39, 'a') + "定制",
         .want = std::string(39, 'a') + "定..."},
        {.name = "invalid UTF-8 bytes escaped", .text = "\xff\xc0\x80", .want = "\\xff\\xc0\\x80"},
        {.name = "truncated UTF-8 sequence escaped", .text = "a\xe5\xae", .want = "a\\xe5\\xae"},
        {.name = "UTF-16 surrogate escaped", .text = "\xed\xa0\x80", .want = "\\xed\\xa0\\x80"},
        {.name = "a credentials file hidden whole",
         .text = "QIANFAN_ACCESS_KEY=" + std::string(kAccess) +
                 "\nQIANFAN_SECRET_KEY=" + std::string(kSecret) + "\n",
         .want = std::string(kHiddenSecret)},
        {.name = "a key after the cut still hides the whole value",
         .text = std::string(60, ' ') + std::string(kSecret),
         .want = std::string(kHiddenSecret)},
        {.name = "/etc/passwd gives only a prefix",
         .text =
             "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n",
         .want = "root:x:0:0:root:/root:/bin/bash\\ndaemon:x..."},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      CHECK(excerpt(c.text) == c.want);
    }
    CHECK(excerpt("abcdef", 3) == "abc...");
    CHECK(excerpt("abc", 0) == "...");
  }

  TEST_CASE("redact: hostile input never comes back longer than the bound or raw") {
    // Every byte value, repeated: the output has no byte below 0x20 and stays short.
    std::string all;
    for (int r = 0; r < 4; ++r) {
      for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
    }
    const auto shown = excerpt(all);
    CHECK(shown.size() <= 40 * 4 + 3);
    for (const char c : shown) CHECK(static_cast<unsigned char>(c) >= 0x20);
    const std::string huge(10'000'000, 'x');
    CHECK(excerpt(huge).size() == 43);
  }

  TEST_CASE("redact: redact_url hides passwords and token-like userinfo") {
    struct Case {
      std::string_view name;
      std::string url;
      std::string want;
    };
    const Case cases[] = {
        {.name = "no userinfo unchanged",
         .url = "http://127.0.0.1:9090/prom",
         .want = "http://127.0.0.1:9090/prom"},
        {.name = "user and password",
         .url = "http://admin:hunter2@prom:9090/x",
         .want = "http://admin:***@prom:9090/x"},
        {.name = "percent-encoded password",
         .url = "https://u:p%40ss%3Aw@h",
         .want = "https://u:***@h"},
        {.name = "password holding @", .url = "http://u:a@b@host/", .want = "http://u:***@host/"},
        {.name = "userinfo without password", .url = "http://tok@host", .want = "http://***@host"},
        {.name = "token as user",
         .url = "http://" + std::string(kSecret) + ":x@host",
         .want = "http://***@host"},
        {.name = "empty password", .url = "http://u:@host", .want = "http://u:***@host"},
        {.name = "@ in the path is not userinfo",
         .url = "http://host/a@b",
         .want = "http://host/a@b"},
        {.name = "secret-looking query",
         .url = "http://host/p?access_token=abc#f",
         .want = "http://host/p?***#f"},
        {.name = "no scheme", .url = "admin:hunter2@prom:9090", .want = "admin:***@prom:9090"},
        {.name = "control bytes escaped", .url = "http://h/\x1b[2J", .want = "http://h/\\x1b[2J"},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      CHECK(redact_url(c.url) == c.want);
    }
    CHECK_FALSE(contains(redact_url("http://u:" + std::string(kSecret) + "@h"), kSecret));
    CHECK(redact_url("http://h/" + std::string(1000, 'a')).size() == 203);
    CHECK(redact_url("").empty());
    CHECK(redact_url("@@@") == "***@");
  }
}

}  // namespace
}  // namespace qfscale::util
