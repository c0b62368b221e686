#!/bin/sh
# The GPU check from the repository root, with the Python that has dl-tutor installed.
cd "$(dirname "$0")/.." && exec "${PYTHON:-python3}" bench/gpu_check.py "$@"
