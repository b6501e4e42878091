"""Native threads and kernels sharing cores: seconds per retrain of a labeling session.

Each kernel is a process running a session on digits (focused CLUE, then auto; a retrain after
every label, foreground, 30 retrains after 3 warm-up ones).  The same work in every row; what
changes is how many kernels run at once and their thread settings:

* library defaults: OpenMP and OpenBLAS with one thread per core, ``native_threads=None``;
* session limit: the session's own OpenMP limit during a retrain (``native_threads=1``, the default);
* served kernel: what ``al-widgets serve`` starts its kernels with (``OMP_NUM_THREADS``,
  ``OPENBLAS_NUM_THREADS`` and ``MKL_NUM_THREADS`` set to 1) plus the session limit.

The kernels warm up first and start their timed retrains together.  Ratios are against one kernel
with the library defaults, measured in the same run.

Run: python benchmarks/bench_threads.py [--kernels 1,2,3] [--retrains 30]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from al_widgets.cli import KERNEL_THREAD_VARS  # noqa: E402  (what serve sets: measured as it is)


def worker(strategy: str, native: int | None, retrains: int) -> float:
    """Seconds per retrain of one session in this process."""
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from al_widgets import ActiveLearningSession, Pool
    X, y = load_digits(return_X_y=True)
    s = ActiveLearningSession(make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)),
                              Pool(X, classes=list(range(10))), strategy, background=False, batch_size=10,
                              native_threads=native, random_state=0)
    for i in range(23):  # digits' first 20 samples hold every class twice; 3 warm-up retrains after
        s.submit(i, int(y[i]))
    done = 23
    print("ready", flush=True)  # every kernel warmed up: the parent starts them together
    sys.stdin.readline()
    t0 = time.perf_counter()
    for _ in range(retrains):
        s.submit(done, int(y[done]))
        done += 1
    seconds = (time.perf_counter() - t0) / retrains
    s.close()
    return seconds


def run(kernels: int, strategy: str, native: int | None, served: bool, retrains: int) -> float:
    """Mean seconds per retrain over ``kernels`` processes whose timed retrains start together (each
    waits, warmed up, until all are: imports and warm-up never overlap the timing)."""
    env = {k: v for k, v in os.environ.items() if k not in KERNEL_THREAD_VARS}
    if served:
        env.update({var: "1" for var in KERNEL_THREAD_VARS})
    cmd = [sys.executable, __file__, "--worker", strategy, str(native), str(retrains)]
    procs = [subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
             for _ in range(kernels)]
    for p in procs:
        if p.stdout.readline().strip() != "ready":
            raise RuntimeError(f"a worker failed before its retrains (exit {p.wait()})")
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    times = [float(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
    return sum(times) / len(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kernels", default="1,2,3")
    ap.add_argument("--retrains", type=int, default=30)
    ap.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        strategy, native, retrains = args.worker
        print(worker(strategy, None if native == "None" else int(native), int(retrains)))
        return
    rows = []
    for strategy in ("focused_clue", "auto"):
        base = run(1, strategy, None, False, args.retrains)
        for k in (int(n) for n in args.kernels.split(",")):
            for name, native, served in (("library defaults", None, False), ("session limit", 1, False),
                                         ("served kernel", 1, True)):
                sec = base if (k, native, served) == (1, None, False) else run(k, strategy, native, served,
                                                                               args.retrains)
                rows.append({"strategy": strategy, "kernels at once": k, "threads": name,
                             "s / retrain": round(sec, 4), "x one kernel, defaults": round(sec / base, 2)})
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
