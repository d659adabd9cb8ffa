#include "support/golden.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <fmt/format.h>

#include "qfscale/util/file.h"

namespace qfscale::test {

namespace {

std::string_view line_at(std::string_view text, std::size_t index) {
  std::size_t start = 0;
  for (std::size_t i = 0; i < index; ++i) {
    const auto nl = text.find('\n', start);
    if (nl == std::string_view::npos) return {};
    start = nl + 1;
  }
  const auto nl = text.find('\n', start);
  return text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
}

}  // namespace

GoldenResult check_golden(std::string_view name, std::string_view actual) {
  const std::filesystem::path path = std::filesystem::path(QFS_TEST_DATA_DIR) / "golden" / name;
  const char* update = std::getenv("QFS_UPDATE_GOLDEN");  // NOLINT(concurrency-mt-unsafe)
  if (update != nullptr && std::string_view(update) == "1") {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    if (auto st = util::write_file_atomic(path.string(), actual); !st) {
      return {.ok = false, .message = st.error().to_string()};
    }
    return {.ok = true, .message = "updated " + path.string()};
  }
  auto expected = util::read_file(path.string());
  if (!expected) {
    return {.ok = false,
            .message = fmt::format("{} (run with QFS_UPDATE_GOLDEN=1 to create it)",
                                   expected.error().to_string())};
  }
  if (*expected == actual) return {.ok = true, .message = {}};
  // The first line that differs; a difference only in the final newline shows as the last line.
  const auto lines = static_cast<std::size_t>(std::count(actual.begin(), actual.end(), '\n')) + 1;
  std::size_t line = 0;
  while (line + 1 < lines && line_at(*expected, line) == line_at(actual, line)) ++line;
  // Long lines (one-line JSON) are shown from a little before the first differing column.
  const std::string_view want = line_at(*expected, line);
  const std::string_view got = line_at(actual, line);
  std::size_t col = 0;
  while (col < want.size() && col < got.size() && want[col] == got[col]) ++col;
  const std::size_t from = col > 40 ? col - 40 : 0;
  constexpr std::size_t kShown = 160;
  return {.ok = false,
          .message = fmt::format("{} differs at line {} column {}:\n  golden: {}\n  actual: {}\n"
                                 "(review, then QFS_UPDATE_GOLDEN=1 to accept)",
                                 path.string(), line + 1, col + 1, want.substr(from, kShown),
                                 got.substr(from, kShown))};
}

}  // namespace qfscale::test
