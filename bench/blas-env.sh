#!/usr/bin/env bash
# Runs a benchmark with the BLAS settings measured fastest here, for rankwise and the PyTorch reference alike.
# OpenBLAS's SkylakeX kernels need AVX-512; on other CPUs the machine's own OPENBLAS_CORETYPE stays.
if grep -qw avx512f /proc/cpuinfo 2>/dev/null; then export OPENBLAS_CORETYPE=SkylakeX; fi
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-2}" GLIBC_TUNABLES=glibc.malloc.hugetlb=1
exec "$@"
