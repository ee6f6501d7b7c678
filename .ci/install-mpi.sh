#!/usr/bin/env bash
# Installs Open MPI from Debian/Ubuntu (mpirun and libmpi.so.40, which Nabla.Distributed loads at run time).
set -euo pipefail
if command -v mpirun >/dev/null 2>&1 && ldconfig -p 2>/dev/null | grep -c 'libmpi\.so\.40' >/dev/null; then
  echo "install-mpi: Open MPI is already installed ($(mpirun --version 2>/dev/null | head -1))"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-mpi: no apt-get here; install Open MPI 4 (mpirun, libmpi.so.40) with your package manager" >&2
  exit 1
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq openmpi-bin libopenmpi-dev >/dev/null
echo "install-mpi: installed $(mpirun --version | head -1)"
