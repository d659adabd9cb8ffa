#include "qfscale/controller/controller.h"

#include <utility>

#include <fmt/format.h>

#include "controller/controller_detail.h"
#include "controller/tick_stages.h"

namespace qfscale::controller {

using telemetry::TickErrorCode;
using telemetry::TickStage;

struct Controller::Impl {
  Config config;
  Dependencies deps;
  EngineStates states;
  detail::Layout layout;
  detail::HiddenUnitsMemory hidden;  ///< learned from refusals; see hidden_units.h

  void adopt(Config c) {
    config = std::move(c);
    layout = detail::Layout::of(config);
    std::erase_if(states,
                  [&](const auto& entry) { return !layout.service_index.contains(entry.first); });
  }

  void report_config(bool success, bool load = true) const {
    telemetry::ConfigReload reload{.success = success, .load = load};
    if (success) {
      reload.services = layout.service_ids;
      reload.instances = layout.instance_ids;
    }
    for (auto* sink : deps.sinks) {
      sink->on_config(reload);
    }
  }

  telemetry::TickReport tick(util::SystemTime now);
  bool save_states(util::SystemTime now, detail::TickErrors& errors);
  void publish(telemetry::TickReport& report) const;
};

Result<std::unique_ptr<Controller>> Controller::create(Config config, Dependencies deps) {
  if (deps.api == nullptr || deps.qps == nullptr || deps.clock == nullptr) {
    return fail(ErrorCode::InvalidInput,
                "controller: the Qianfan API, the QPS source and the clock are required");
  }
  if (auto checked = detail::check_config(config); !checked) {
    return fail(checked.error());
  }
  auto impl = std::make_unique<Impl>();
  impl->deps = std::move(deps);
  if (impl->deps.state_store != nullptr && impl->deps.load_states_on_create) {
    auto loaded = impl->deps.state_store->load();
    if (!loaded) {
      return fail(std::move(loaded).error().with_context(
          fmt::format("loading the controller state from {} (move the file away to start with "
                      "empty stabilization history)",
                      impl->deps.state_store->path())));
    }
    impl->states = std::move(*loaded);
  }
  impl->adopt(std::move(config));
  impl->report_config(true);
  return std::unique_ptr<Controller>(new Controller(std::move(impl)));
}

Controller::Controller(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Controller::~Controller() = default;

telemetry::TickReport Controller::tick(util::SystemTime now) { return impl_->tick(now); }

Status Controller::reload(Config config, ReloadKind kind) {
  const bool load = kind == ReloadKind::Load;
  if (auto checked = detail::check_config(config); !checked) {
    impl_->report_config(false, load);
    return checked;
  }
  impl_->adopt(std::move(config));
  impl_->report_config(true, load);
  return util::ok();
}

Status Controller::reload_states() {
  std::set<model::ServiceId> all;
  for (const auto& [id, index] : impl_->layout.service_index) all.insert(id);
  return reload_states(all);
}

Status Controller::reload_states(const std::set<model::ServiceId>& only) {
  if (impl_->deps.state_store == nullptr) return util::ok();
  auto loaded = impl_->deps.state_store->load();
  if (!loaded) return fail(std::move(loaded).error());
  for (const auto& id : only) {
    if (!impl_->layout.service_index.contains(id)) continue;
    const auto it = loaded->find(id);
    if (it == loaded->end()) {
      impl_->states.erase(id);
    } else {
      impl_->states[id] = std::move(it->second);
    }
  }
  return util::ok();
}

const Config& Controller::config() const { return impl_->config; }
const EngineStates& Controller::states() const { return impl_->states; }

telemetry::TickReport Controller::Impl::tick(util::SystemTime now) {
  const auto started = deps.clock->monotonic_now();
  hidden = detail::recall(std::move(hidden), now);
  const detail::TickContext ctx{
      .config = config, .layout = layout, .deps = deps, .now = now, .hidden = hidden};
  detail::TickErrors errors;
  errors.of_service.resize(config.services.size());
  auto observed = detail::observe_tick(ctx, errors);
  const auto recommended = detail::recommend_all(ctx, observed, states, errors);
  const auto requests = detail::allocation_input(ctx, observed, recommended);
  const auto allocation = detail::allocate(requests, errors);
  auto acted = detail::plan_and_act(ctx, requests, allocation, errors);
  hidden = detail::learn(std::move(hidden),
                         detail::refused_ups(ctx, observed, requests, allocation, acted), now);
  const bool saved = save_states(now, errors);

  auto report =
      detail::assemble_report(ctx, observed, recommended, requests, allocation, acted, errors);
  report.success = acted.ok && saved && !detail::nothing_observed(observed, recommended);
  report.finished_at = now;
  report.duration = std::chrono::duration<double>(deps.clock->monotonic_now() - started);
  publish(report);
  return report;
}

bool Controller::Impl::save_states(util::SystemTime now, detail::TickErrors& errors) {
  if (deps.state_store == nullptr) return true;
  auto saved = deps.state_store->save(states, now);
  if (saved) return true;
  errors.add(TickStage::Save, TickErrorCode::Io,
             fmt::format("saving the controller state to {} failed: {}; a restart now would "
                         "forget stabilization history",
                         deps.state_store->path(), saved.error()));
  return false;
}

void Controller::Impl::publish(telemetry::TickReport& report) const {
  if (deps.audit_log != nullptr) {
    // First, so that the other sinks hear of a failed write in this very report.
    deps.audit_log->on_tick(report);
    if (auto written = deps.audit_log->last_status(); !written) {
      report.errors.push_back(
          {.stage = TickStage::Audit,
           .code = TickErrorCode::Io,
           .message = fmt::format("{}; the lines are kept and written with the next tick's",
                                  written.error().message)});
    }
  }
  for (auto* sink : deps.sinks) {
    sink->on_tick(report);
  }
}

}  // namespace qfscale::controller
