# dhat_keep_tail_call_frames(<target>...): compiles the named targets with
# -fno-optimize-sibling-calls, so that a function of theirs that ends in `return malloc(n)`,
# `return new T(...)` or a call to another function keeps its own frame on the recorded stacks
# (at -O2 the compiler turns such a last call into a jump, and the function vanishes from the
# profile: its blocks are charged to its caller). Costs a call and return where there was a jump
# (README: Adding it to your project). With dhat-cpp switched off (DHAT_ENABLE=OFF) it does
# nothing: the program is compiled exactly as without dhat-cpp.
function(dhat_keep_tail_call_frames)
  if(NOT TARGET dhat::dhat)
    message(FATAL_ERROR "dhat_keep_tail_call_frames: dhat::dhat is not defined (find_package(dhat) or add_subdirectory first)")
  endif()
  get_target_property(dhat_definitions dhat::dhat INTERFACE_COMPILE_DEFINITIONS)
  if(NOT "DHAT_ENABLED=1" IN_LIST dhat_definitions)
    return()
  endif()
  foreach(target IN LISTS ARGN)
    target_compile_options(${target} PRIVATE
      $<$<OR:$<COMPILE_LANG_AND_ID:CXX,GNU,Clang>,$<COMPILE_LANG_AND_ID:C,GNU,Clang>>:-fno-optimize-sibling-calls>)
  endforeach()
endfunction()
