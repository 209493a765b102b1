"""Portability check: the notebooks' stored outputs and the unit tests under
several numeric configurations of this CPU.

Every configuration below is safe on any x86-64 CPU that has the listed flags,
and each changes floating-point results at round-off level:

- OpenBLAS kernels: ``OPENBLAS_CORETYPE`` set to each of a few distinct kernels
  the CPU supports (chosen from the flags in ``/proc/cpuinfo``), and unset, so
  that OpenBLAS picks its own; matmul/dot/einsum round differently in each.
- NumPy's SIMD dispatch restricted with ``NPY_DISABLE_CPU_FEATURES`` to the
  AVX2 loops (when the CPU has AVX-512): transcendental ufuncs (exp, log,
  power, sin, tanh) can differ in the last ulp.
- One BLAS thread instead of the default (other blocking of large matmuls).

Each configuration runs the strict notebook tests (nbval) and the unit tests
(not the browser test, which reads the built book), two configurations at a
time.  The check fails if any test fails in any configuration, and prints one
line per configuration with the failing test ids; the full pytest output of
each configuration (with the differing outputs) is in ``_build/portability/``.

    .venv/bin/python tests/portability.py          # or: make test-portable
    .venv/bin/python tests/portability.py --list   # only show the configurations

This is for developers before they resolve an issue that touches a notebook;
CI runs the README's test command in the machine's own environment.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOGS = ROOT / "_build" / "portability"   # one pytest log per configuration
OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")

# OpenBLAS kernel -> the CPU flag it needs (a kernel the CPU lacks crashes).
OPENBLAS_KERNELS = {"Nehalem": "sse4_2", "Haswell": "avx2", "SkylakeX": "avx512f"}
# NumPy dispatch groups above AVX2 (names from numpy.show_runtime()).
NUMPY_ABOVE_AVX2 = ("X86_V4", "AVX512_ICL", "AVX512_SPR", "AVX512F", "AVX512CD",
                    "AVX512_SKX", "AVX512_CLX", "AVX512_CNL")


def cpu_flags() -> set[str]:
    text = Path("/proc/cpuinfo").read_text()
    match = re.search(r"^flags\s*:\s*(.*)$", text, re.MULTILINE)
    return set(match.group(1).split()) if match else set()


def numpy_found_features() -> list[str]:
    """The SIMD groups NumPy found on this CPU, as numpy.show_runtime() names them."""
    from numpy._core._multiarray_umath import __cpu_features__, __cpu_dispatch__
    return [name for name in __cpu_dispatch__ if __cpu_features__.get(name)]


def configurations() -> list[tuple[str, dict[str, str | None]]]:
    """(name, environment changes) pairs; ``None`` unsets a variable."""
    flags = cpu_flags()
    configs: list[tuple[str, dict[str, str | None]]] = [("machine default", {})]
    if any(name in os.environ for name in OPENBLAS_VARS):  # else that is the default
        configs.append(("OpenBLAS picks its kernel", dict.fromkeys(OPENBLAS_VARS)))
    for kernel, flag in OPENBLAS_KERNELS.items():
        if flag in flags:
            configs.append((f"OPENBLAS_CORETYPE={kernel}",
                            {"OPENBLAS_CORETYPE": kernel, "OPENBLAS_L2_SIZE": None}))
    above_avx2 = [name for name in numpy_found_features() if name in NUMPY_ABOVE_AVX2]
    if above_avx2:
        configs.append((f"NumPy SIMD without {' '.join(above_avx2)}",
                        {"NPY_DISABLE_CPU_FEATURES": " ".join(above_avx2)}))
    configs.append(("one BLAS thread", {"OPENBLAS_NUM_THREADS": "1"}))
    return configs


def environment(changes: dict[str, str | None]) -> dict[str, str]:
    env = dict(os.environ)
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def run(name: str, changes: dict[str, str | None], selection: list[str]) -> tuple[str, int, list[str], float]:
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
               "-m", "not book", "--nbval", "--nbval-current-env",
               "--nbval-sanitize-with", "tests/nbval_sanitize.cfg", *selection]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=environment(changes),
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    LOGS.mkdir(parents=True, exist_ok=True)
    log = LOGS / (re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_") + ".log")
    log.write_text(done.stdout + done.stderr)
    failed = sorted(set(re.findall(r"^(?:FAILED|ERROR) (.+?)(?: - .*)?$", done.stdout, re.MULTILINE)))
    if done.returncode != 0 and not failed:
        failed = [f"pytest exited {done.returncode}: {done.stdout[-500:]}{done.stderr[-500:]}"]
    return name, done.returncode, failed, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", action="store_true", help="print the configurations and exit")
    parser.add_argument("--jobs", type=int, default=2, help="configurations run at once (default 2)")
    parser.add_argument("selection", nargs="*", default=["chapters", "tests"],
                        help="what pytest collects (default: chapters tests)")
    args = parser.parse_args()
    configs = configurations()
    if args.list:
        for name, changes in configs:
            print(f"{name:45s} {changes}")
        return 0
    print(f"{len(configs)} configurations, {args.jobs} at a time: {', '.join(n for n, _ in configs)}")
    worst = 0
    with ThreadPoolExecutor(args.jobs) as pool:
        for future in as_completed([pool.submit(run, *c, args.selection) for c in configs]):
            name, code, failed, seconds = future.result()
            status = "ok" if code == 0 else f"FAILED ({len(failed)})"
            print(f"{name:45s} {status:12s} {seconds:6.0f} s", flush=True)
            for test in failed:
                print(f"    {test}", flush=True)
            worst = max(worst, code)
    print("portable: every configuration passed" if worst == 0
          else "NOT portable: some outputs depend on the numeric configuration")
    return 1 if worst else 0


if __name__ == "__main__":
    sys.exit(main())
