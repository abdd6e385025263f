"""The ``fastinit`` command: sweep, show, plot, list."""
from __future__ import annotations

import argparse
import re
import sys


def _bytes(text: str) -> int:
    m = re.fullmatch(r"\s*([0-9.]+)\s*([kmgt]?)i?b?\s*", text.lower())
    if not m:
        raise argparse.ArgumentTypeError(f"--max-memory {text!r}: use a size such as 512MB or 8GB")
    return int(float(m.group(1)) * 1024 ** " kmgt".index(m.group(2) or " "))


def _for_cli(message: str) -> str:
    """An error message of the API as the command line shows it: the hints that name a Python
    function (``fastinit.initializer_names()``) or list every activation point to ``fastinit list``."""
    message = message.replace("See fastinit.initializer_names().", "Run `fastinit list` to see every name.")
    return re.sub(r"(activation=.* is unknown.*Known: [^\n]*)", r"\1 (`fastinit list` lists them)", message)


def _cmd_sweep(args) -> int:
    import warnings

    import fastinit as fi
    from fastinit.sweep import SpecError
    warnings.showwarning = lambda message, *a, **k: print(f"fastinit sweep: note: {message}", file=sys.stderr)
    try:
        df = fi.sweep(args.spec, out=args.out, backend=args.backend, progress=not args.quiet,
                      resume=not args.no_resume, overwrite=args.overwrite, scheduler=args.scheduler,
                      threads=args.threads, max_memory=args.max_memory)
    except (SpecError, FileExistsError, MemoryError, ValueError, TypeError) as e:
        print(f"fastinit sweep: error: {_for_cli(str(e))}", file=sys.stderr)
        return 2
    except OSError as e:   # --out under a file, unwritable, ...
        print(f"fastinit sweep: error: --out {args.out!r}: {e.strerror or e}", file=sys.stderr)
        return 2
    if not args.quiet:
        print(f"{df['config_id'].nunique()} configurations, {len(df)} rows -> {args.out}")
    return 0


def _load(command: str, folder: str):
    """The sweep table in ``folder``, or None after printing why not; notes (an incomplete sweep,
    files that are not its parts) one line each."""
    import warnings

    import fastinit as fi
    with warnings.catch_warnings(record=True) as notes:
        warnings.simplefilter("always")
        try:
            df = fi.load(folder)
        except (FileNotFoundError, NotADirectoryError, ValueError) as e:
            df = None
            print(f"fastinit {command}: error: {_for_cli(str(e))}", file=sys.stderr)
    for n in notes:
        print(f"fastinit {command}: note: {n.message}", file=sys.stderr)
    return df


def _cmd_show(args) -> int:
    from fastinit.report import is_training, summary, training_summary
    df = _load("show", args.dir)
    if df is None:
        return 2
    print(training_summary(df) if is_training(df) else summary(df))
    return 0


def _cmd_plot(args) -> int:
    from fastinit.plot import sweep_figure, training_figure
    from fastinit.report import is_training
    df = _load("plot", args.dir)
    if df is None:
        return 2
    out = args.out or f"{args.dir.rstrip('/')}/sweep.png"
    (training_figure if is_training(df) else sweep_figure)(df, out)
    print(f"wrote {out}")
    return 0


def _cmd_list(args) -> int:
    import numpy as np

    import fastinit as fi
    from fastinit.initializers import describe, spelling_notes, spellings
    if args.stats:
        shape = (256, 256)
        print(f"sample statistics of a {shape} float32 weight, seed 0, Keras layout")
        print(f"{'initializer':26s} {'mean':>10s} {'std':>10s} {'min':>10s} {'max':>10s}")
        for name in fi.initializer_names():
            try:
                w = fi.initialize(name, shape).astype(np.float64)
            except ValueError:
                continue  # needs parameters, another rank, or data
            print(f"{name:26s} {w.mean():10.4g} {w.std():10.4g} {w.min():10.4g} {w.max():10.4g}")
        return 0
    print("initializers: canonical name [framework] (defaults) notes, then its spellings:")
    for name in fi.initializer_names():
        print("  " + describe(name))
        print("      " + ", ".join(spellings(name)))
    print("\n".join(spelling_notes()))
    print("activations:\n  " + ", ".join(fi.activation_names()))
    return 0


def _interrupted(args) -> int:
    """Ctrl-C: one line, exit 130 (finished chunks are stored: the same command resumes)."""
    hint = "; finished chunks are stored: resume with the same command" if args.command == "sweep" else ""
    print(f"fastinit {args.command}: interrupted{hint}", file=sys.stderr)
    return 130


def main(argv=None) -> int:
    """Entry point of the ``fastinit`` command."""
    p = argparse.ArgumentParser(
        prog="fastinit", description="Simulate weight initialization in deep networks."
    )
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser(
        "sweep",
        help="run a sweep spec",
        description="Run every configuration of a TOML spec; "
        "results go to DIR as Parquet parts, and a rerun resumes.",
    )
    s.add_argument("spec", help="the TOML spec")
    s.add_argument("--out", required=True, metavar="DIR", help="result folder")
    s.add_argument("--backend", choices=("local", "dask"), default="local")
    s.add_argument("--scheduler", metavar="ADDRESS", help="dask scheduler address (default: a LocalCluster)")
    s.add_argument("--threads", type=int, metavar="N", help="numba threads per process")
    s.add_argument("--no-resume", action="store_true", help="recompute everything")
    s.add_argument("--overwrite", action="store_true", help="replace results of another spec in DIR")
    s.add_argument("--max-memory", type=_bytes, metavar="SIZE", help="refuse chunks needing more (e.g. 4GB)")
    s.add_argument("--quiet", action="store_true", help="no progress bar or summary line")
    s.set_defaults(func=_cmd_sweep)

    s = sub.add_parser("show", help="summarise a sweep", description=(
        "Per activation and initializer: how signal and gradient change from the first to the last layer, "
        "and blow-ups. A training sweep: per setting, the final training loss over seeds (min / median / "
        "max), steps to target, best test accuracy and divergences."))
    s.add_argument("dir", metavar="DIR")
    s.set_defaults(func=_cmd_show)

    s = sub.add_parser("plot", help="plot a sweep", description=(
        "Signal and gradient against layer per activation, and a heat map over initializer x depth. A "
        "training sweep: loss curves per initializer (median and band over seeds), a steps-to-target heat "
        "map over initializer x depth, and accuracy over sigma_w^2 x depth where the initializers are "
        "variance scalings."))
    s.add_argument("dir", metavar="DIR")
    s.add_argument("--out", metavar="FILE.png", help="figure path (default DIR/sweep.png)")
    s.set_defaults(func=_cmd_plot)

    s = sub.add_parser("list", help="list initializers and activations")
    s.add_argument("--stats", action="store_true", help="sample statistics of every initializer")
    s.set_defaults(func=_cmd_list)

    s = sub.add_parser(
        "bench",
        help="side-by-side benchmark against PyTorch and NumPy loops",
        description="Run the benchmarks/peers.py workloads (needs the 'bench' extra for torch).",
    )
    if (argv if argv is not None else sys.argv[1:])[:1] == ["bench"]:   # bench.py imports NumPy & co.
        from . import bench
        bench.add_arguments(s)
        s.set_defaults(func=bench.run)

    args = p.parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return _interrupted(args)
    except SystemError as e:   # Numba reports an interrupt inside a parallel kernel this way
        if isinstance(e.__cause__ or e.__context__, KeyboardInterrupt):
            return _interrupted(args)
        raise
    except BrokenPipeError:  # output piped into head & co.
        import os
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
