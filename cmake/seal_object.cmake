# cmake -DNM=nm -DOBJCOPY=objcopy -DIN=linked.o -DOUT=sealed.o -DOUTSIDE=objects.txt -DKEEP=a,b
#       -P seal_object.cmake
# cmake -DNM=nm -DCHECK=sealed.o -P seal_object.cmake     (the check alone, for the test)
# The sealing step of cmake/DhatSealedObject.cmake.
cmake_minimum_required(VERSION 3.25)

# What libstdc++.so holds compiled and allocates with operator new: a sealed object that still
# names one of these would call the program's replacement.
set(allocating_in_libstdcxx
  "^_Zn[wa]" "^_Zd[la]"                               # operator new and delete themselves
  "basic_string" "getline"                            # std::string's members (profiler_new.cpp)
  "basic_filebuf" "basic_[io]?fstream"                # file streams' buffers
  "basic_stringbuf" "basic_[io]?stringstream"         # string streams
  "_ZNSt6locale.*_Impl" "_ZNSt8ios_base13_M_grow_words")

# nm's lines for `object` (with `option`, or none: "" ), as a list; fails the build if nm does.
function(nm_lines out object option)
  execute_process(COMMAND ${NM} ${option} ${object} OUTPUT_VARIABLE text RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "dhat: ${NM} failed on ${object}")
  endif()
  string(REPLACE "\n" ";" lines "${text}")
  set(${out} "${lines}" PARENT_SCOPE)
endfunction()

function(check_sealed object)
  nm_lines(lines ${object} --undefined-only)
  set(offending "")
  foreach(line IN LISTS lines)
    string(REGEX REPLACE "^ *[Uw] +" "" name "${line}")
    if(name MATCHES "^dhat_own_")
      continue()  # the renamed references: profiler_new.cpp, in the same object, defines them
    endif()
    foreach(pattern IN LISTS allocating_in_libstdcxx)
      if(name MATCHES "${pattern}")
        list(APPEND offending ${name})
        break()
      endif()
    endforeach()
  endforeach()
  if(offending)
    list(JOIN offending "\n  " shown)
    message(FATAL_ERROR "dhat: ${object} calls code of libstdc++.so that allocates with the program's "
                        "operator new (src/hooks/profiler_new.cpp):\n  ${shown}")
  endif()
endfunction()

if(DEFINED CHECK)
  check_sealed(${CHECK})
  message(STATUS "${CHECK}: no call of the program's operator new")
  return()
endif()

# The twenty replaceable forms, and std::getline(std::istream&, std::string&, char).
set(renamed
  _Znwm _Znam _ZnwmRKSt9nothrow_t _ZnamRKSt9nothrow_t
  _ZnwmSt11align_val_t _ZnamSt11align_val_t _ZnwmSt11align_val_tRKSt9nothrow_t _ZnamSt11align_val_tRKSt9nothrow_t
  _ZdlPv _ZdaPv _ZdlPvm _ZdaPvm _ZdlPvRKSt9nothrow_t _ZdaPvRKSt9nothrow_t
  _ZdlPvSt11align_val_t _ZdaPvSt11align_val_t _ZdlPvmSt11align_val_t _ZdaPvmSt11align_val_t
  _ZdlPvSt11align_val_tRKSt9nothrow_t _ZdaPvSt11align_val_tRKSt9nothrow_t)
set(map "")
foreach(name IN LISTS renamed)
  string(APPEND map "${name} dhat_own_${name}\n")
endforeach()
string(APPEND map "_ZSt7getlineIcSt11char_traitsIcESaIcEERSt13basic_istreamIT_T0_ES7_RNSt7__cxx1112basic_stringIS4_S5_T1_EES4_ dhat_own_getline\n")

# What the objects outside the seal call in it (the API's and the operator new hooks' calls of
# dhat::core and dhat::runtime), and what they define of the profiler's own data.
file(STRINGS ${OUTSIDE} outside_objects)
string(REPLACE "," ";" called "${KEEP}")
set(outside_data "")
foreach(object IN LISTS outside_objects)
  nm_lines(lines ${object} "")
  foreach(line IN LISTS lines)
    if(line MATCHES "^ +U (_Z.+)$")
      list(APPEND called "${CMAKE_MATCH_1}")
    elseif(line MATCHES "^[0-9a-f]+ [Vu] (_Z.+)$")
      list(APPEND outside_data "${CMAKE_MATCH_1}")
    endif()
  endforeach()
endforeach()

nm_lines(lines ${IN} --defined-only)
set(local "")
foreach(line IN LISTS lines)
  # "<address> <type> <name>", global types upper case (and u, unique: a static local of an
  # inline function). Every global C++ name counts, not only the weak ones: a constant that was
  # in a COMDAT group (a template's static local) is a strong definition once groups dissolve.
  # C names stay: they are the hooks (malloc, free, ..., dlclose) and dhat's own.
  if(line MATCHES "^[0-9a-f]+ ([A-TV-Zu]) (_Z.+)$")
    set(name "${CMAKE_MATCH_2}")
    set(own FALSE)
    if(name MATCHES "^_Z(Z|GVZ|GV|TV|TI|TS|TH|TW)?N[VKRO]*4dhat")
      set(own TRUE)
    endif()
    if(own AND name IN_LIST outside_data)
      # An inline variable (or a static local of an inline function) of the profiler's, in both:
      # two copies would be two different objects.
      message(FATAL_ERROR "dhat: ${name} is defined both in the sealed object and outside it; "
                          "make it an ordinary variable of one source file")
    endif()
    if(NOT (own AND name IN_LIST called))
      string(APPEND local "${name}\n")
    endif()
  endif()
endforeach()
get_filename_component(dir ${OUT} DIRECTORY)
file(WRITE ${OUT}.local "${local}")
file(WRITE ${OUT}.renamed "${map}")
# Two passes: objcopy does not make a unique symbol local, but it does make it weak, and a weak
# one local.
execute_process(COMMAND ${OBJCOPY} --weaken-symbols=${OUT}.local ${IN} ${OUT}.weak RESULT_VARIABLE status)
if(status EQUAL 0)
  execute_process(COMMAND ${OBJCOPY} --localize-symbols=${OUT}.local --redefine-syms=${OUT}.renamed ${OUT}.weak ${OUT}.tmp
                  RESULT_VARIABLE status)
endif()
if(NOT status EQUAL 0)
  message(FATAL_ERROR "dhat: ${OBJCOPY} failed on ${IN}")
endif()
file(REMOVE ${OUT}.weak)
check_sealed(${OUT}.tmp)
file(RENAME ${OUT}.tmp ${OUT})
