#pragma once

/// Integer and string types that cannot be mixed up: `Replicas` is not `ComputeUnits`,
/// a service id is not an instance id.

#include <compare>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace qfscale::util {

/// A counted quantity. Arithmetic only with the same tag; scaling by plain ints is explicit.
template <class Tag>
struct Count {
  int value = 0;

  constexpr Count() = default;
  constexpr explicit Count(int v) : value(v) {}

  friend constexpr auto operator<=>(Count, Count) = default;
  friend constexpr Count operator+(Count a, Count b) { return Count{a.value + b.value}; }
  friend constexpr Count operator-(Count a, Count b) { return Count{a.value - b.value}; }
  constexpr Count& operator+=(Count o) {
    value += o.value;
    return *this;
  }
  constexpr Count& operator-=(Count o) {
    value -= o.value;
    return *this;
  }
};

/// A string identifier with a tag, hashable and formattable.
template <class Tag>
struct Id {
  std::string value;

  Id() = default;
  explicit Id(std::string v) : value(std::move(v)) {}
  explicit Id(std::string_view v) : value(v) {}
  explicit Id(const char* v) : value(v) {}

  [[nodiscard]] bool empty() const { return value.empty(); }
  friend auto operator<=>(const Id&, const Id&) = default;
  friend bool operator==(const Id&, const Id&) = default;
};

}  // namespace qfscale::util

template <class Tag>
struct std::hash<qfscale::util::Id<Tag>> {
  std::size_t operator()(const qfscale::util::Id<Tag>& id) const noexcept {
    return std::hash<std::string>{}(id.value);
  }
};

template <class Tag>
struct fmt::formatter<qfscale::util::Count<Tag>> : fmt::formatter<int> {
  auto format(qfscale::util::Count<Tag> c, format_context& ctx) const {
    return fmt::formatter<int>::format(c.value, ctx);
  }
};

template <class Tag>
struct fmt::formatter<qfscale::util::Id<Tag>> : fmt::formatter<std::string_view> {
  auto format(const qfscale::util::Id<Tag>& id, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(id.value, ctx);
  }
};
