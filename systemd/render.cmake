# SPDX-License-Identifier: Apache-2.0
# render.cmake - copy units and configuration files with their install paths.
#
# The files in systemd/ and firmware-config/ name the paths of a Debian
# package (/usr/bin, /etc/officemeter, /usr/share/officemeter). An install
# elsewhere (`cmake --install --prefix /usr/local`, or the build tree in the
# tests) needs the same files with its own paths, so both the install rules
# and tests/integration/test_systemd_units.sh render them through this one
# script, and what is tested is what is installed.
#
# Input variables:
#   OM_RENDER_FILES  list of source files
#   OM_RENDER_OUT    output folder (created)
#   OM_BINDIR        replaces /usr/bin            (executables)
#   OM_CONFDIR       replaces /etc/officemeter    (configuration)
#   OM_DATADIR       where the catalogue is (OM_DATADIR/meters)
#   OM_RENDER_INSTALL  when true, report and record each file as installed
#
# Besides the two prefixes, the example configs' source-tree paths
# (../../sites/ and ../meters, relative to firmware-config/*/) become the
# installed layout (sites/ beside the config, the catalogue in OM_DATADIR).
#
# Use as a script: cmake -DOM_RENDER_FILES="a;b" -DOM_RENDER_OUT=DIR
#   -DOM_BINDIR=... -DOM_CONFDIR=... -DOM_DATADIR=... -P systemd/render.cmake
foreach(var OM_RENDER_FILES OM_RENDER_OUT OM_BINDIR OM_CONFDIR OM_DATADIR)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "render.cmake: ${var} is not set")
  endif()
endforeach()

file(MAKE_DIRECTORY "${OM_RENDER_OUT}")
foreach(src IN LISTS OM_RENDER_FILES)
  file(READ "${src}" text)
  string(REPLACE "/usr/bin/" "${OM_BINDIR}/" text "${text}")
  string(REPLACE "/etc/officemeter/" "${OM_CONFDIR}/" text "${text}")
  string(REPLACE "site_file: ../../sites/" "site_file: sites/" text "${text}")
  string(REPLACE "sites_dir: ../../sites " "sites_dir: sites      " text "${text}")
  string(REPLACE "catalogue: ../meters  " "catalogue: ${OM_DATADIR}/meters  " text "${text}")
  get_filename_component(name "${src}" NAME)
  set(dst "${OM_RENDER_OUT}/${name}")
  if(OM_RENDER_INSTALL)
    message(STATUS "Installing: ${dst}")
    list(APPEND CMAKE_INSTALL_MANIFEST_FILES "${dst}")
  endif()
  file(WRITE "${dst}" "${text}")
endforeach()
