"""Sweep specs: TOML (or the same structure as a dict) in, a validated :class:`Spec` out.

Every error of a spec is collected and reported at once, each with its key path and what is
allowed, before anything runs.
"""
from __future__ import annotations

import hashlib
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

import inspect

from .._validate import check_real
from ..activations import get_activation
from ..engine import SETTING_CHECKS, SHAPE_DEFAULTS, check_bias_initializer
from ..initializers import get_initializer
from ..simulate import simulate

#: Keys that may appear in ``[grid]`` (as a list) or ``[settings]`` (as a value).
SIMULATE_KEYS = ("initializer", "activation", "bias_initializer", "depth", "width", "widths", "batch", "seed",
                 "trial", "input", "input_corr", "dtype", "backward", "jacobian", "loss")
#: Keys only ``[settings]`` takes: engine options.
ENGINE_KEYS = {"theory": "true or false: add mean-field predictions (preact_sq_theory, ...)",
               "chunk_size": "an integer >= 1: most configurations per stored chunk "
                             "(the depths of one network stay together; default 512, or more small "
                             "configurations: about 2 GFLOP of work)"}
TOP_KEYS = ("name", "description", "grid", "settings", "train")
#: Keys of ``[train]`` (each a value, or a list of values: a grid axis); a spec with ``[train]``
#: trains its networks (:mod:`fastinit.sweep.training`).
TRAIN_KEYS = ("task", "steps", "lr", "optimizer", "batch", "eval_every", "loss", "momentum", "beta1", "beta2",
              "eps", "target")
#: The keys of [grid] / [settings] a training sweep takes (hidden layers: ``depth`` of ``width``).
TRAIN_NETWORK_KEYS = ("initializer", "activation", "bias_initializer", "depth", "width", "seed", "trial",
                      "dtype")
#: Defaults of every setting: :func:`fastinit.simulate`'s, and the engine options'.
DEFAULTS = {**{k: p.default for k, p in inspect.signature(simulate).parameters.items()
               if p.kind is p.KEYWORD_ONLY and k != "widths"},
            "batch": SHAPE_DEFAULTS["batch"], "theory": False, "chunk_size": None}
#: The check of each key's value (each raises ValueError / TypeError naming the value).
CHECKS = {**SETTING_CHECKS, "initializer": get_initializer, "bias_initializer": check_bias_initializer,
          "activation": get_activation}


class SpecError(ValueError):
    """A sweep spec is invalid; the message lists every problem, one per line."""


@dataclass(frozen=True)
class Spec:
    """A validated sweep spec."""

    name: str
    grid: dict
    settings: dict
    text: str | None = None
    train: bool = False     # a training sweep: [train]'s keys are in grid (lists) and settings (values)

    @property
    def canonical(self) -> str:
        """The spec as canonical JSON (what its hash is taken of)."""
        data = {"name": self.name, "grid": self.grid, "settings": self.settings}
        if self.train:
            data["train"] = True
        return json.dumps(data, sort_keys=True)

    @property
    def hash(self) -> str:
        return hashlib.sha256(self.canonical.encode()).hexdigest()[:16]

    @property
    def tables(self) -> dict:
        """The spec as its TOML tables (``[train]``'s keys taken back out of grid and settings)."""
        if not self.train:
            return {"name": self.name, "grid": self.grid, "settings": self.settings}
        train = {k: v for k, v in {**self.grid, **self.settings}.items() if k in TRAIN_KEYS}
        return {"name": self.name, "grid": {k: v for k, v in self.grid.items() if k not in TRAIN_KEYS},
                "settings": {k: v for k, v in self.settings.items() if k not in TRAIN_KEYS}, "train": train}

    def value(self, key):
        """A setting's value (or its default)."""
        return self.settings.get(key, DEFAULTS.get(key))

    def values(self, key) -> list:
        """The values a key takes: its grid list, or its one setting (or default)."""
        return self.grid[key] if key in self.grid else [self.value(key)]

    @property
    def n_configs(self) -> int:
        return math.prod(len(v) for v in self.grid.values())


def _read_spec_file(path: Path) -> str:
    """The text of a spec file, or a SpecError saying why it cannot be one."""
    if not path.exists():
        raise SpecError(f"spec file {str(path)!r} does not exist")
    if path.is_dir():
        raise SpecError(f"spec {str(path)!r} is a folder, not a TOML file")
    if not path.is_file():
        raise SpecError(f"spec {str(path)!r} is not a regular file (a TOML file is needed)")
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise SpecError(f"spec file {str(path)!r} is not UTF-8 text (TOML is UTF-8): byte {e.start} "
                        f"cannot be decoded") from None
    except OSError as e:
        raise SpecError(f"spec file {str(path)!r} cannot be read: {e.strerror}") from None


def load_spec(spec) -> Spec:
    """Parse and validate a spec given as a path to a TOML file, TOML text, a dict or a Spec."""
    if isinstance(spec, Spec):
        return spec
    text = None
    if isinstance(spec, (str, Path)) and not (isinstance(spec, str) and "\n" in spec):
        text = _read_spec_file(Path(spec))
    elif isinstance(spec, str):
        text = spec
    if text is not None:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise SpecError(f"spec is not valid TOML: {e}") from None
    elif isinstance(spec, dict):
        data = spec
    else:
        raise SpecError(f"spec must be a path, TOML text or a dict, got {type(spec).__name__}")
    return _validate(data, text)


def _check_value(key, value, path, errors, checked=None):
    """Validate one simulate keyword's value; append problems to ``errors``. A valid value is
    recorded in ``checked[key]`` as ``(path, canonical form)``: what tells two values apart
    (canonical labels for initializers and activations) and what cross-field checks read."""
    try:
        canonical = CHECKS[key](value)
    except (ValueError, TypeError) as e:
        errors.append(f"{path}: {e}")
        return
    if checked is not None:
        checked.setdefault(key, []).append((path, getattr(canonical, "label", canonical)))


def _show(value) -> str:
    """A canonical value as a message shows it (widths as a list)."""
    return repr(list(value) if isinstance(value, tuple) else value)


def _duplicates(key, entries, errors):
    """One error per value that appears more than once in ``grid.key`` (``entries``: its
    ``(path, canonical form)``): it would repeat configurations, and the table could not tell them
    apart."""
    same: dict = {}
    for path, canonical in entries:
        same.setdefault(canonical, []).append(path)
    for canonical, paths in same.items():
        if len(paths) > 1:
            same_as = canonical if isinstance(canonical, str) else _show(canonical)
            errors.append(f"grid.{key}: {', '.join(paths)} are all {same_as}; give each value once "
                          f"(a duplicate repeats configurations)")


def _cross_checks(checked, errors):
    """Checks that involve two keys, each error naming both key paths and values (``checked``:
    see :func:`_check_value`; a key given nowhere takes its default, which passes every check)."""
    pairs = [
        ("input_corr", "batch", lambda c, b: c is not None and b % 2 == 1,
         "input_corr needs an even batch (pairs of inputs)"),
        ("input_corr", "input", lambda c, i: c is not None and i != "normal",
         "input_corr needs input='normal'"),
        ("depth", "widths", lambda d, w: w is not None and d is not None and d != len(w) - 1,
         "depth must be len(widths) - 1 (widths lists the input and every layer)"),
    ]
    for a, b, bad, why in pairs:
        for pa, va in checked.get(a, []):
            for pb, vb in checked.get(b, []):
                if bad(va, vb):
                    errors.append(f"{pa}={_show(va)} with {pb}={_show(vb)}: {why}")


def _validate(data: dict, text: str | None) -> Spec:
    errors: list[str] = []
    for k in data:
        if k not in TOP_KEYS:
            errors.append(f"{k}: unknown top-level key; allowed: {', '.join(TOP_KEYS)}")
    name = data.get("name", "sweep")
    if not isinstance(name, str):
        errors.append(f"name: {name!r} must be a string")
    if "description" in data and not isinstance(data["description"], str):
        errors.append(f"description: {data['description']!r} must be a string")
    grid = data.get("grid", {})
    settings = data.get("settings", {})
    if not isinstance(grid, dict):
        errors.append("grid: must be a table of lists")
        grid = {}
    if not isinstance(settings, dict):
        errors.append("settings: must be a table of values")
        settings = {}
    checked: dict = {}    # key -> [(key path, canonical value)] of its valid values
    train = data.get("train")
    keys = SIMULATE_KEYS if train is None else TRAIN_NETWORK_KEYS
    for k, values in grid.items():
        if k not in keys:
            errors.append(f"grid.{k}: {_not_allowed(k, train)}; allowed: {', '.join(keys)}")
            continue
        if not isinstance(values, list) or not values:
            errors.append(f"grid.{k}: must be a non-empty list, got {values!r}")
            continue
        for i, v in enumerate(values):
            _check_value(k, v, f"grid.{k}[{i}]", errors, checked)
        _duplicates(k, checked.get(k, []), errors)
    for k, v in settings.items():
        if k == "theory" and train is not None:
            errors.append("settings.theory: mean-field columns are not part of a training sweep")
            continue
        if k in ENGINE_KEYS:
            ok = (
                isinstance(v, bool)
                if k == "theory"
                else (isinstance(v, int) and not isinstance(v, bool) and v >= 1)
            )
            if not ok:
                errors.append(f"settings.{k}: {v!r} is not allowed; must be {ENGINE_KEYS[k]}")
            continue
        if k not in keys:
            allowed = ", ".join(keys + tuple(ENGINE_KEYS))
            errors.append(f"settings.{k}: {_not_allowed(k, train)}; allowed: {allowed}")
            continue
        if k in grid:
            errors.append(f"settings.{k}: also in [grid]; give it in one place")
            continue
        if isinstance(v, list) and k != "widths":
            errors.append(f"settings.{k}: a list belongs in [grid], [settings] takes one value")
            continue
        _check_value(k, v, f"settings.{k}", errors, checked)
    _cross_checks(checked, errors)
    if train is not None:
        _train_table(train, grid, settings, errors)
    present = set(grid) | set(settings)
    for k in ("initializer", "activation"):
        if k not in present:
            errors.append(f"{k}: missing; give it in [grid] or [settings]")
    if "widths" not in present and not {"depth", "width"} <= present:
        errors.append("depth, width: missing; give depth and width (or widths) in [grid] or [settings]")
    if "widths" in present and ("width" in present):
        errors.append("width: give either width (with depth) or widths, not both")
    if errors:
        raise SpecError("invalid sweep spec:\n  " + "\n  ".join(errors))
    if train is not None:
        grid = {**grid, **{k: v for k, v in train.items() if isinstance(v, list)}}
        settings = {**settings, **{k: v for k, v in train.items() if not isinstance(v, list)}}
    return Spec(name, grid, settings, text, train is not None)


def _not_allowed(key, train) -> str:
    """Why a key of [grid] / [settings] is refused."""
    if train is None or key not in SIMULATE_KEYS:
        return "unknown key"
    if key in TRAIN_KEYS:
        return f"a training sweep takes {key} in [train]"
    return "not used by a training sweep"


def _train_table(train, grid, settings, errors) -> None:
    """Validate ``[train]``: each key a value or a non-empty list of values (a grid axis), checked
    as :func:`fastinit.train` checks it; tasks are built once to check them."""
    from ..engine.training import TRAIN_CHECKS
    from ..train import resolve_task
    if not isinstance(train, dict):
        errors.append("train: must be a table (task, steps, lr, optimizer, ...)")
        return
    checks = {**TRAIN_CHECKS, "task": lambda v: resolve_task(v),
              "target": lambda v: check_real("target", v, positive=True)}
    checked: dict = {}
    for k, v in train.items():
        if k not in TRAIN_KEYS:
            errors.append(f"train.{k}: unknown key; allowed: {', '.join(TRAIN_KEYS)}")
            continue
        if k in grid or k in settings:
            errors.append(f"train.{k}: also in [grid] or [settings]; give it in [train]")
            continue
        if isinstance(v, list) and not v:
            errors.append(f"train.{k}: must be a value or a non-empty list of values")
            continue
        for path, value in ([(f"train.{k}[{i}]", x) for i, x in enumerate(v)] if isinstance(v, list)
                            else [(f"train.{k}", v)]):
            try:
                canonical = checks[k](value)
            except (ValueError, TypeError, ImportError) as e:
                errors.append(f"{path}: {e}")
                continue
            if isinstance(v, list):
                checked.setdefault(k, []).append((path, getattr(canonical, "label", canonical)))
        _duplicates(k, checked.get(k, []), errors)
