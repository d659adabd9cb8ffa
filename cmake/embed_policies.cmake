# Writes OUTPUT, a C++ source that holds every ${DIR}/*.yaml as a raw string literal and defines
# qfscale::controller::detail::shipped_policy_table() (src/controller/shipped_policies.h).
# Run at build time (cmake -DDIR=... -DOUTPUT=... -P embed_policies.cmake), so that editing a
# policy regenerates the table; the file is only replaced when its content changes.
if(NOT DIR OR NOT OUTPUT)
  message(FATAL_ERROR "embed_policies.cmake: set DIR and OUTPUT")
endif()
set(delimiter "qfs_policy")
file(GLOB files LIST_DIRECTORIES false "${DIR}/*.yaml")
list(SORT files)
set(entries "")
foreach(file IN LISTS files)
  get_filename_component(name "${file}" NAME_WE)
  file(READ "${file}" text)
  string(FIND "${text}" ")${delimiter}\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "${file} contains )${delimiter}\", which ends the raw string literal")
  endif()
  string(APPEND entries "    {\"${name}\", R\"${delimiter}(${text})${delimiter}\"},\n")
endforeach()
set(content "// Generated from policies/*.yaml by cmake/embed_policies.cmake; do not edit.
#include \"controller/shipped_policies.h\"

namespace qfscale::controller::detail {
namespace {
constexpr ShippedPolicy kShippedPolicies[] = {
${entries}};
}  // namespace

std::span<const ShippedPolicy> shipped_policy_table() { return kShippedPolicies; }

}  // namespace qfscale::controller::detail
")
file(WRITE "${OUTPUT}.tmp" "${content}")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
