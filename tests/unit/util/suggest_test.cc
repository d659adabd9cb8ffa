#include "qfscale/util/suggest.h"

#include <string_view>
#include <vector>

#include <doctest/doctest.h>

namespace qfscale::util {
namespace {

TEST_SUITE("util") {
  TEST_CASE("suggest: edit_distance counts insertions, deletions and substitutions") {
    CHECK(edit_distance("", "") == 0);
    CHECK(edit_distance("abc", "") == 3);
    CHECK(edit_distance("polcy", "policy") == 1);    // insertion
    CHECK(edit_distance("statuss", "status") == 1);  // deletion
    CHECK(edit_distance("simulte", "simulate") == 1);
    CHECK(edit_distance("kitten", "sitting") == 3);
  }

  TEST_CASE("suggest: closest_match offers a likely typo's intended word, or nothing") {
    const std::vector<std::string_view> flags = {"--help", "--policy", "--replica-qps", "--steps",
                                                 "--start"};
    CHECK(closest_match("--polcy", flags) == std::optional<std::string_view>("--policy"));
    CHECK(closest_match("--POLICY", flags) == std::optional<std::string_view>("--policy"));
    CHECK(closest_match("--replica-qp", flags) == std::optional<std::string_view>("--replica-qps"));
    CHECK(closest_match("--stars", flags) == std::optional<std::string_view>("--start"));
    // Equally close: the first candidate wins.
    CHECK(closest_match("--hat", {"--cat", "--bat"}) == std::optional<std::string_view>("--cat"));
    CHECK_FALSE(closest_match("--frobnicate", flags).has_value());

    const std::vector<std::string_view> commands = {"describe", "policy", "run", "simulate",
                                                    "status"};
    CHECK(closest_match("statuss", commands) == std::optional<std::string_view>("status"));
    CHECK(closest_match("simulte", commands) == std::optional<std::string_view>("simulate"));
    // Short words allow one edit: "rn" is run, "xyz" is nothing.
    CHECK(closest_match("rn", commands) == std::optional<std::string_view>("run"));
    CHECK_FALSE(closest_match("xyz", commands).has_value());
    // The limit is a third of the shorter word: "simul" is 3 edits from simulate (limit 1).
    CHECK_FALSE(closest_match("simul", commands).has_value());
    CHECK_FALSE(closest_match("anything", {}).has_value());
  }
}

}  // namespace
}  // namespace qfscale::util
