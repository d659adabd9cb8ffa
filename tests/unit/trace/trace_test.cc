#include "qfscale/trace/trace.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>
#include <unistd.h>

#include "qfscale/util/file.h"

namespace qfscale::trace {
namespace {

using namespace std::chrono_literals;

Trace parse_ok(std::string_view text) {
  auto t = parse_trace(text, "t.csv");
  REQUIRE_MESSAGE(t.has_value(), util::to_string(t.error()));
  return *t;
}

TEST_SUITE("trace") {
  TEST_CASE("trace: parses rows into a per-second series with sums and means") {
    const auto t = parse_ok("t_seconds,qps\n0,4\n1,0\n2,10\n3,2.5\n");
    CHECK(t.size() == 4);
    CHECK(t.duration() == 4s);
    CHECK(std::vector<float>(t.per_second().begin(), t.per_second().end()) ==
          std::vector<float>{4, 0, 10, 2.5F});
    CHECK(t.total() == 16.5);
    CHECK(t.rate_at(0) == 4);
    CHECK(t.rate_at(2.99) == 10);
    CHECK(t.rate_at(-0.01) == 0);  // before the trace
    CHECK(t.rate_at(4) == 0);      // at the end
    CHECK(t.mean(0, 4) == doctest::Approx(16.5 / 4));
    // [1.5, 2.5): half of second 1 (0) and half of second 2 (10): 5 requests over 1 s.
    CHECK(t.mean(1.5, 2.5) == doctest::Approx(5.0));
    // Clipped to [0, 4): [-10, 2) is the mean of seconds 0 and 1.
    CHECK(t.mean(-10, 2) == doctest::Approx(2.0));
    CHECK(t.mean(3, 100) == doctest::Approx(2.5));
    CHECK(t.mean(10, 20) == 0);
    CHECK(t.mean(2, 2) == 10);  // empty window: the rate at `from`
  }

  TEST_CASE("trace: tolerates BOM, CRLF, spaces and trailing blank lines") {
    const auto t = parse_ok("\xEF\xBB\xBFt_seconds,qps\r\n0, 1\r\n 1 ,2 \r\n\r\n\n");
    CHECK(t.size() == 2);
    CHECK(t.rate_at(1) == 2);
    CHECK(to_csv(t) == "t_seconds,qps\n0,1\n1,2\n");
  }

  TEST_CASE("trace: to_csv round-trips fractional values") {
    const Trace t(std::vector<float>{0.1F, 1234.5F, 0, 3e-5F});
    CHECK(parse_ok(to_csv(t)) == t);
  }

  TEST_CASE("trace: every problem is reported with file, line and column") {
    struct Want {
      int line;
      int column;
      std::string_view path;
      std::string_view message_part;
    };
    struct Case {
      std::string_view name;
      std::string_view text;
      std::vector<Want> want;
    };
    const Case cases[] = {
        {.name = "empty file", .text = "", .want = {{1, 1, "", "empty file"}}},
        {.name = "header only", .text = "t_seconds,qps\n", .want = {{1, 1, "", "no data rows"}}},
        {.name = "wrong header",
         .text = "time,rate\n0,1\n",
         .want = {{1, 1, "", "expected the header"}}},
        {.name = "missing header is reported and the line still read as data",
         .text = "0,1\n2,1\n",
         .want = {{1, 1, "", "missing the header"}, {2, 1, "t_seconds", "gap"}}},
        {.name = "missing column",
         .text = "t_seconds,qps\n0,1\n1\n2,3\n",
         .want = {{3, 2, "qps", "missing column"}}},
        {.name = "extra column",
         .text = "t_seconds,qps\n0,1,7\n",
         .want = {{2, 4, "", "extra columns"}}},
        {.name = "non-numeric and negative qps",
         .text = "t_seconds,qps\n0,abc\n1,-2\n2,nan\n3,inf\n",
         .want = {{2, 3, "qps", "not a number"},
                  {3, 3, "qps", "negative"},
                  {4, 3, "qps", "not a finite"},
                  {5, 3, "qps", "not a finite"}}},
        {.name = "fractional or text t",
         .text = "t_seconds,qps\n0.5,1\nx,1\n",
         .want = {{2, 1, "t_seconds", "not an integer"}, {3, 1, "t_seconds", "not an integer"}}},
        {.name = "gap and non-monotonic t",
         .text = "t_seconds,qps\n0,1\n1,1\n5,1\n5,1\n3,1\n6,1\n",
         .want = {{4, 1, "t_seconds", "gap: 5 follows 1; want 2 (3 seconds missing)"},
                  {5, 1, "t_seconds", "not increasing: 5 follows 5; want 6"},
                  {6, 1, "t_seconds", "not increasing: 3 follows 5"}}},
        {.name = "trace not starting at 0",
         .text = "t_seconds,qps\n1,1\n",
         .want = {{2, 1, "t_seconds", "starts at 1; want 0"}}},
        {.name = "blank lines in the middle",
         .text = "t_seconds,qps\n0,1\n\n\n1,1\n",
         .want = {{3, 1, "", "2 empty lines"}}},
    };
    for (const auto& c : cases) {
      SUBCASE(std::string(c.name).c_str()) {
        const auto r = parse_trace(c.text, "dir/bad.csv");
        REQUIRE(!r.has_value());
        const auto& d = r.error();
        CHECK_MESSAGE(d.size() == c.want.size(), util::to_string(d));
        for (std::size_t i = 0; i < std::min(d.size(), c.want.size()); ++i) {
          CAPTURE(d[i].to_string());
          CHECK(d[i].file == "dir/bad.csv");
          CHECK(d[i].line == c.want[i].line);
          CHECK(d[i].column == c.want[i].column);
          CHECK(d[i].path == c.want[i].path);
          CHECK(d[i].message.find(c.want[i].message_part) != std::string::npos);
        }
      }
    }
  }

  TEST_CASE("trace: diagnostics are capped with an 'and N more' entry") {
    std::string text = "t_seconds,qps\n";
    for (int i = 0; i < 50; ++i) text += fmt::format("{},-1\n", i);  // 50 negative values
    const auto r = parse_trace(text, "many.csv");
    REQUIRE(!r.has_value());
    REQUIRE(r.error().size() == kMaxTraceDiagnostics + 1);
    CHECK(r.error()[0].line == 2);
    CHECK(r.error()[kMaxTraceDiagnostics - 1].line == 21);
    CHECK(r.error().back().message == "and 30 more problems");
  }

  TEST_CASE("trace: load_trace reads a file and names unreadable ones") {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("qfscale-trace-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto path = (dir / "x.csv").string();
    {
      std::ofstream f(path);
      f << "t_seconds,qps\n0,3\n1,x\n";
    }
    const auto bad = load_trace(path);
    REQUIRE(!bad.has_value());
    CHECK(bad.error()[0].to_string().starts_with(path + ":3:3: qps:"));
    {
      std::ofstream f(path);
      f << "t_seconds,qps\n0,3\n1,4\n";
    }
    const auto good = load_trace(path);
    REQUIRE(good.has_value());
    CHECK(good->total() == 7);
    const auto missing = load_trace((dir / "missing.csv").string());
    REQUIRE(!missing.has_value());
    CHECK(missing.error()[0].line == 0);
    CHECK(missing.error()[0].message.find("missing.csv") != std::string::npos);
    std::filesystem::remove_all(dir);
  }

  TEST_CASE("trace: the example traces parse and match the figures of their README") {
    // examples/traces/README.md, table column "requests"; mean qps = requests / rows.
    struct Case {
      std::string_view file;
      std::size_t rows;
      std::string_view requests;
    };
    const Case cases[] = {
        {"azure-code-2023-first30m.csv", 1800, "5740"},   // mean 3.189
        {"azure-conv-2023-first30m.csv", 1800, "10108"},  // mean 5.616
        {"mooncake-conv-fast25-first30m.csv", 1800, "5719"},
        {"servegen-language-mmid-2d.csv", 172'800, "222063021"},
        {"servegen-language-msmall-2d.csv", 172'800, "165742927"},
    };
    const std::string dir = QFS_EXAMPLES_DIR "/traces/";
    const auto readme = util::read_file(dir + "README.md");
    REQUIRE_MESSAGE(readme.has_value(), readme.error().to_string());
    for (const auto& c : cases) {
      CAPTURE(c.file);
      const auto t = load_trace(dir + std::string(c.file));
      REQUIRE_MESSAGE(t.has_value(), util::to_string(t.error()));
      CHECK(t->size() == c.rows);
      CHECK(t->total() == std::stod(std::string(c.requests)));
      // One of the README's rows for the file (sources, then figures) states the same count.
      bool stated = false;
      const std::string row_start = "\n| " + std::string(c.file) + " |";
      for (auto row = readme->find(row_start); row != std::string::npos && !stated;
           row = readme->find(row_start, row + 1)) {
        const auto row_text = readme->substr(row, readme->find('\n', row + 1) - row);
        stated = row_text.find("| " + std::string(c.requests) + " |") != std::string::npos;
      }
      CHECK_MESSAGE(stated, "no row of examples/traces/README.md gives " << c.requests);
    }
    // And no trace ships without its row (source, licence and citation are in the README).
    std::size_t csv_files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      if (entry.path().extension() != ".csv") continue;
      ++csv_files;
      CAPTURE(entry.path().filename().string());
      CHECK(readme->find("\n| " + entry.path().filename().string() + " |") != std::string::npos);
    }
    CHECK(csv_files == std::size(cases));

    const auto conv = load_trace(dir + "azure-conv-2023-first30m.csv");
    REQUIRE(conv.has_value());
    CHECK(conv->mean(0, 1800) == doctest::Approx(5.616).epsilon(0.0005));
    CHECK(conv->mean(-60, 3600) == doctest::Approx(5.616).epsilon(0.0005));  // clipped
  }
}

}  // namespace
}  // namespace qfscale::trace
