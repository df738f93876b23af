"""Run the chapters' paper profiles within a time budget, and resume where the last call stopped.

For a GPU rented by the minute, or a Colab GPU that disconnects: each call runs the chapters still
to do, in order, with ``profile="paper"``, until ``--budget-min`` is spent, then stops the running
chapter and says how far everything got. The next call picks up there. Nothing is lost: every
chapter keeps its run folders under ``OUT/runs/<chapter>`` (each run resumes from its last
epoch's checkpoint, to the same weights as an unbroken run), and a finished chapter is recorded in
``OUT/state.json`` with its wall time and is not run again. Executed notebooks go to
``OUT/executed/``.

    python benchmarks/paper_profiles.py --budget-min 50                      # all five chapters
    python benchmarks/paper_profiles.py --budget-min 50 --data ../shared/data --chapters 004 002
    python benchmarks/paper_profiles.py --status                             # what is done so far

``--data DIR`` gives every chapter its dataset (``DIR`` laid out as the course's ``data/``: each
chapter finds its own folder in it). ``--profile quick`` runs the quick profile the same way (a
test of this script on a CPU).
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"


def chapter_notebooks(names: list[str] | None, folder: Path = NOTEBOOKS) -> list[Path]:
    books = sorted(p for p in folder.glob("[0-9][0-9][0-9]_*.ipynb"))
    if not names:
        return books
    by_key = {p.name[:3]: p for p in books}
    unknown = [n for n in names if n not in by_key]
    if unknown:
        raise SystemExit(f"unknown chapter(s) {unknown}; the chapters are {sorted(by_key)}")
    return [by_key[n] for n in names]


def load_state(out: Path) -> dict:
    path = out / "state.json"
    if not path.exists():
        return {"chapters": {}}
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise SystemExit(f"{path} is not valid JSON ({e}); fix or delete it (run folders are kept apart)")


def save_state(out: Path, state: dict) -> None:
    tmp = out / "state.json.tmp"
    tmp.write_text(json.dumps(state, indent=1))
    os.replace(tmp, out / "state.json")


def run_chapter(nb: Path, out: Path, profile: str, data: str | None, device: str, seconds: float,
                python: str = sys.executable) -> tuple[str, float]:
    """Run one chapter for at most ``seconds``; ("done" | "stopped" | "failed", wall seconds)."""
    key = nb.name[:3]
    executed = out / "executed" / nb.name
    executed.parent.mkdir(parents=True, exist_ok=True)
    cmd = [python, "-m", "papermill", str(nb), str(executed), "--cwd", str(nb.parent), "--no-progress-bar",
           "-p", "profile", profile, "-p", "run_root", str((out / "runs" / key).resolve()), "-p", "device", device]
    if data:
        cmd += ["-p", "data_dir", str(Path(data).resolve())]
    cells = sum(1 for c in json.loads(nb.read_text())["cells"] if c["cell_type"] == "code")
    env = {**os.environ, "LABKIT_PROGRESS": "text", "LABKIT_CONSOLE": f"{key}:{cells}"}
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, start_new_session=True)
    try:
        rc = proc.wait(timeout=max(1.0, seconds))
    except subprocess.TimeoutExpired:
        stop_tree(proc.pid)
        proc.wait()
        return "stopped", time.perf_counter() - start
    return ("done" if rc == 0 else "failed"), time.perf_counter() - start


def stop_tree(pid: int, grace: float = 30.0) -> None:
    """Stop papermill and everything under it: the kernel (which jupyter_client starts in a
    session of its own, out of reach of a signal to papermill's group) and any runs the kernel
    forked (labkit.parallel). Checkpoints are written atomically, so a run stopped mid-epoch
    resumes from its last finished epoch. SIGTERM first, SIGKILL after ``grace`` seconds."""
    import psutil  # installed with ipykernel

    try:
        parent = psutil.Process(pid)
        procs = parent.children(recursive=True) + [parent]
    except psutil.NoSuchProcess:
        return
    for p in procs:
        try:
            p.send_signal(signal.SIGTERM)
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(procs, timeout=grace)
    for p in alive:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(alive, timeout=grace)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--budget-min", type=float, default=60.0, help="stop after this many minutes (default 60)")
    ap.add_argument("--chapters", nargs="*", help="chapter numbers, e.g. 004 002 (default: all, in order)")
    ap.add_argument("--data", help="a folder laid out as the course's data/ (default: each chapter's embedded data)")
    ap.add_argument("--out", default=str(ROOT / "_build" / "paper"), help="state, run folders and executed notebooks")
    ap.add_argument("--profile", default="paper", choices=("paper", "quick"))
    ap.add_argument("--device", default="auto", choices=("auto", "cuda", "mps", "cpu"))
    ap.add_argument("--status", action="store_true", help="print what is done and stop")
    ap.add_argument("--notebooks", default=str(NOTEBOOKS), help=argparse.SUPPRESS)  # for the tests
    args = ap.parse_args(argv)
    if args.budget_min <= 0:
        raise SystemExit(f"--budget-min must be positive; got {args.budget_min}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    state = load_state(out)
    setting = {"profile": args.profile, "data": str(Path(args.data).resolve()) if args.data else None}
    if state.get("setting", setting) != setting:
        raise SystemExit(f"{out} holds runs of {state['setting']}, not {setting}: pass another --out "
                         f"(nothing there is overwritten)")
    state["setting"] = setting
    deadline = time.monotonic() + args.budget_min * 60
    if not args.status:
        for nb in chapter_notebooks(args.chapters, Path(args.notebooks)):
            key = nb.name[:3]
            entry = state["chapters"].setdefault(key, {"status": "to do", "seconds": 0.0, "calls": 0})
            if entry["status"] == "done":
                continue
            left = deadline - time.monotonic()
            if left < 5:
                break
            print(f"[paper] {nb.name}: {args.profile} profile, {left / 60:.1f} min of budget left", flush=True)
            status, took = run_chapter(nb, out, args.profile, args.data, args.device, left)
            entry.update(status=status, seconds=entry["seconds"] + took, calls=entry["calls"] + 1)
            save_state(out, state)
            if status == "failed":
                print(f"[paper] {nb.name} failed: see the executed copy in {out / 'executed'}", flush=True)
            if status == "stopped":
                break
    print(f"\n{'chapter':8s} {'status':8s} {'wall min':>9s} {'calls':>6s}")
    for key, e in sorted(state["chapters"].items()):
        print(f"{key:8s} {e['status']:8s} {e['seconds'] / 60:9.1f} {e['calls']:6d}")
    save_state(out, state)
    todo = [k for k, e in state["chapters"].items() if e["status"] != "done"]
    print("all done" if not todo else f"to do: {', '.join(todo)}: call again to continue", flush=True)
    return 0 if not any(e["status"] == "failed" for e in state["chapters"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
