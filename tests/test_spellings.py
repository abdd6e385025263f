"""Every spelling of an initializer name that fastinit lists or that the real frameworks produce.

``fastinit list`` prints, from the registry, each canonical name with its framework and the
spellings that resolve to it; every printed spelling must resolve. The recorded tables under
``tests/data/frameworks/`` (``record_frameworks.py``, from Keras 3 and JAX) hold every Keras alias
and class name, each initializer's ``get_config()`` and ``serialize()`` dict, fans and variances
for a few shapes, and JAX's initializer names with their defaults: each must resolve in fastinit
to the framework's semantics. With keras or jax importable, the same checks run against them live.
"""
from __future__ import annotations

import pytest

import fastinit as fi
from fastinit import cli


def _run_cli(capsys, *args):
    rc = cli.main(list(args))
    out = capsys.readouterr()
    return rc, out.out, out.err


# --- unknown names on the command line ---------------------------------------------------------
def test_cli_unknown_names_point_to_fastinit_list(tmp_path, capsys):
    spec = tmp_path / "spec.toml"
    spec.write_text('[grid]\ninitializer = ["he_normla"]\nactivation = ["relux"]\n'
                    "[settings]\ndepth = 2\nwidth = 4\nbatch = 2\n")
    rc, _, err = _run_cli(capsys, "sweep", str(spec), "--out", str(tmp_path / "o"))
    assert rc == 2
    lines = {ln.split(":")[0].strip(): ln for ln in err.splitlines()}
    init, act = lines["grid.initializer[0]"], lines["grid.activation[0]"]
    assert "did you mean 'he_normal'?" in init and "fastinit list" in init
    assert "initializer_names()" not in init           # the API's hint is for Python users
    assert "did you mean 'relu'?" in act and "fastinit list" in act
    # the API keeps its own hint
    with pytest.raises(ValueError, match=r"See fastinit\.initializer_names\(\)"):
        fi.get_initializer("he_normla")


def test_unknown_name_without_a_close_match_reads_as_a_sentence():
    with pytest.raises(ValueError, match=r"'qqqq' is unknown\. See fastinit\.initializer_names\(\)\."):
        fi.get_initializer("qqqq")
    assert cli._for_cli("initializer='qqqq' is unknown. See fastinit.initializer_names().") == \
        "initializer='qqqq' is unknown. Run `fastinit list` to see every name."
