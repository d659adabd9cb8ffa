#include "cli/usage.h"

#include <cstdio>
#include <memory>
#include <optional>
#include <string_view>

#include <fmt/format.h>

#include "qfscale/policy/duration.h"
#include "qfscale/util/suggest.h"

namespace qfscale::cli {

namespace {

/// Where a walk along the arguments stopped: the deepest command reached, as typed, and the
/// first word it does not know (if any).
struct Walk {
  CLI::App* command = nullptr;
  std::string path;     ///< "qfscale policy eval"
  std::string problem;  ///< empty: every flag and command was known
};

std::vector<CLI::App*> subcommands_of(CLI::App& app) {
  return app.get_subcommands([](CLI::App* sub) { return !sub->get_name().empty(); });
}

std::vector<std::string> command_names(CLI::App& parent) {
  std::vector<std::string> names;
  for (auto* sub : subcommands_of(parent)) names.push_back(sub->get_name());
  return names;
}

std::string command_list(CLI::App& parent) {
  std::string list;
  for (const auto& name : command_names(parent)) {
    list += fmt::format("{}{}", list.empty() ? "" : ", ", name);
  }
  return fmt::format("(commands: {})", list);
}

std::string unknown_command(const Walk& at, CLI::App& parent, const std::string& word) {
  const auto names = command_names(parent);
  const std::vector<std::string_view> views(names.begin(), names.end());
  std::string message = fmt::format("{}: unknown command '{}'", at.path, word);
  if (auto guess = util::closest_match(word, views)) {
    return message + fmt::format("; did you mean '{}'?", *guess);
  }
  return message + " " + command_list(parent);
}

std::string unknown_flag(const Walk& at, const std::string& flag) {
  std::vector<std::string> names;
  for (const auto* opt : at.command->get_options()) {
    for (const auto& l : opt->get_lnames()) names.push_back("--" + l);
    for (const auto& s : opt->get_snames()) names.push_back("-" + s);
  }
  const std::vector<std::string_view> views(names.begin(), names.end());
  std::string message = fmt::format("{}: unknown flag {}", at.path, flag);
  // A one-letter flag is one edit from every other one-letter flag: no guess is worth making.
  const bool short_flag = !flag.starts_with("--");
  if (auto guess = short_flag ? std::nullopt : util::closest_match(flag, views)) {
    return message + fmt::format("; did you mean {}?", *guess);
  }
  return message + fmt::format("; run '{} --help' for the flags", at.path);
}

/// Follows `args` down the command tree as CLI11 would, stopping at the first unknown flag, or
/// at an unknown word where a command (not a positional argument) is expected.
Walk walk(CLI::App& app, const std::vector<std::string>& args, std::size_t from = 0) {
  Walk at{.command = &app, .path = app.get_name(), .problem = {}};
  for (std::size_t i = from; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") break;
    if (arg.size() > 1 && arg[0] == '-') {
      const bool long_form = arg.starts_with("--");
      const auto eq = arg.find('=');
      const std::string name = long_form ? arg.substr(0, eq) : arg.substr(0, 2);
      const auto* opt = at.command->get_option_no_throw(name);
      if (opt == nullptr) {
        at.problem = unknown_flag(at, name);
        return at;
      }
      const bool value_attached = long_form ? eq != std::string::npos : arg.size() > 2;
      if (opt->get_items_expected_max() > 0 && !value_attached) ++i;  // skip its value
      continue;
    }
    auto subs = subcommands_of(*at.command);
    CLI::App* next = nullptr;
    for (auto* sub : subs) {
      if (sub->check_name(arg)) next = sub;
    }
    if (next != nullptr) {
      at.command = next;
      at.path += " " + arg;
      continue;
    }
    // A word where only commands fit: a command group without positional arguments.
    const bool takes_positionals =
        !at.command->get_options([](const CLI::Option* o) { return o->get_positional(); }).empty();
    if (!subs.empty() && !takes_positionals) {
      at.problem = unknown_command(at, *at.command, arg);
      return at;
    }
  }
  return at;
}

}  // namespace

std::string describe_parse_error(CLI::App& app, const std::vector<std::string>& args,
                                 const CLI::Error& error) {
  const auto at = walk(app, args);
  if (!at.problem.empty()) return at.problem;
  if (!subcommands_of(*at.command).empty() && at.command->get_subcommands().empty() &&
      dynamic_cast<const CLI::RequiredError*>(&error) != nullptr) {
    return fmt::format("{}: a command is required {}\nRun '{} --help' for what each does.", at.path,
                       command_list(*at.command), at.path);
  }
  return fmt::format("{}: {}\nRun '{} --help' for the options.", at.path, error.what(), at.path);
}

void add_help_command(CLI::App& app, Context& context) {
  auto words = std::make_shared<std::vector<std::string>>();
  auto* help = app.add_subcommand(
      "help", "Show the commands, or one command's options: qfscale help [COMMAND...]");
  help->add_option("COMMAND", *words, "A command, e.g. simulate or policy eval");
  help->callback([&app, words, &context] {
    const auto at = walk(app, *words);
    if (!at.problem.empty()) {
      fmt::print(stderr, "{}\n", at.problem);
      context.exit_code = 2;
      return;
    }
    fmt::print("{}", at.command->get_formatter()->make_help(at.command, at.path,
                                                            CLI::AppFormatMode::Normal));
    std::fflush(stdout);
    context.exit_code = 0;
  });
}

CLI::Option* add_positive_duration_option(CLI::App& cmd, const std::string& name,
                                          std::chrono::seconds& target,
                                          const std::string& description) {
  return cmd
      .add_option_function<std::string>(
          name,
          // Runs after the check below, so the text parses.
          [&target](const std::string& text) {
            target = policy::parse_duration(text).value_or(target);
          },
          description)
      ->type_name("DURATION")
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            const auto d = policy::parse_duration(text);
            if (!d) return d.error();
            if (d->count() <= 0) return "must be longer than 0s";
            return {};
          },
          "DURATION"));
}

}  // namespace qfscale::cli
