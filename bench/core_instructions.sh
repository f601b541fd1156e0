#!/bin/sh
# The core's instructions per update under callgrind, which the machine's load does not move (unlike
# its CPU time): the difference between a 12-dialog and a 2-dialog run of bench/core_cpu.py with 2
# members, over the 140 updates between them. Needs valgrind (apt-get install valgrind); about 2 min.
#     sh bench/core_instructions.sh
set -e
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "core_instructions: needs valgrind" >&2; exit 2; }
count() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null .venv/bin/python bench/core_cpu.py \
        --members 2 --dialogs "$1" --rounds 1 2>&1 | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
long=$(count 12)
short=$(count 2)
.venv/bin/python -c "print(f'core_instructions: per_update={($long - $short) / 140 / 1e6:.3f}M')"
