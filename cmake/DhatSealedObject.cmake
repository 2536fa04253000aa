# dhat_sealed_object(NAME <name> OUT <var> OBJECT_LIBRARIES <lib>... OUTSIDE <lib>...): links the
# object libraries' objects into one relocatable object, <binary dir>/<name>.o, sealed so that
# the profiler's own code never calls the program's operator new (src/hooks/profiler_new.cpp says
# why and how). OUTSIDE names the object libraries linked beside it (the public API, the
# operator new/delete hooks): the only C++ names the seal leaves global are the profiler's own
# (`dhat::`) that those objects call, and the mangled names listed after KEEP.
#   - `ld -r --force-group-allocation`: one object, COMDAT groups dissolved (a group kept as a
#     group would still be merged with the program's copy of the same template instance);
#   - every other C++ definition made local: the template instances are the sealed object's
#     alone, and a program (or a test) that has its own copy of a layer keeps it apart;
#   - every reference to a replaceable operator new/delete form renamed to its `dhat_own_` form,
#     and std::getline on a std::string to dhat_own_getline;
#   - then checked: a reference to anything of libstdc++'s that allocates fails the build.
# Sets <var> to the object's path, to list as a source of the target that takes it (in the same
# directory: a custom command's output belongs to its directory).
set(DHAT_SEAL_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/seal_object.cmake)

function(dhat_sealed_object)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "NAME;OUT" "OBJECT_LIBRARIES;OUTSIDE;KEEP")
  set(linked ${CMAKE_CURRENT_BINARY_DIR}/${arg_NAME}.linked.o)
  set(sealed ${CMAKE_CURRENT_BINARY_DIR}/${arg_NAME}.o)
  set(objects "")
  foreach(lib IN LISTS arg_OBJECT_LIBRARIES)
    list(APPEND objects $<TARGET_OBJECTS:${lib}>)
  endforeach()
  set(outside "")
  foreach(lib IN LISTS arg_OUTSIDE)
    list(APPEND outside $<TARGET_OBJECTS:${lib}>)
  endforeach()
  # The outside objects' names go to the script in a file: a command line of a list is awkward.
  set(outside_list ${CMAKE_CURRENT_BINARY_DIR}/${arg_NAME}.outside)
  file(GENERATE OUTPUT ${outside_list} CONTENT "$<JOIN:${outside},\n>\n")
  list(JOIN arg_KEEP "," keep)
  add_custom_command(OUTPUT ${sealed}
    COMMAND ${CMAKE_LINKER} -r --force-group-allocation -o ${linked} ${objects}
    COMMAND ${CMAKE_COMMAND} -DNM=${CMAKE_NM} -DOBJCOPY=${CMAKE_OBJCOPY} -DIN=${linked} -DOUT=${sealed}
            -DOUTSIDE=${outside_list} -DKEEP=${keep}
            -P ${DHAT_SEAL_SCRIPT}
    DEPENDS ${objects} ${outside} ${arg_OBJECT_LIBRARIES} ${arg_OUTSIDE} ${outside_list} ${DHAT_SEAL_SCRIPT}
    COMMENT "Sealing the profiler's own code into ${arg_NAME}.o"
    COMMAND_EXPAND_LISTS VERBATIM)
  set_source_files_properties(${sealed} PROPERTIES EXTERNAL_OBJECT TRUE GENERATED TRUE)
  set(${arg_OUT} ${sealed} PARENT_SCOPE)
  set_property(GLOBAL APPEND PROPERTY DHAT_SEALED_OBJECTS ${sealed})  # for tests/structure
endfunction()
