"""Run a script of this folder under the repository's virtualenv, whatever started it.

Every Python script here imports this module before anything else. Started
by another interpreter (`scripts/bench`, whose `#!/usr/bin/env python3` is
the system's, or `python3 scripts/bench`), it starts the script again under
`<repo>/.venv/bin/python` with the same arguments: the scripts need what only
the virtualenv holds (pyarrow, datasets, the package itself), and a README
line must work as written. It also puts this checkout's `src/` first on the
path, so a script measures the code beside it, not another install.

Without `.venv` it prints how to make one, in one line, and exits 2. An
interpreter of another virtualenv is kept when the repository has none (a
second checkout run with the first one's venv). Imported by a test rather
than run, it changes nothing but the path.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
VENV = REPO / ".venv"
# Set across the restart: if the venv's interpreter still is not the venv
# (a broken .venv), say so instead of starting again forever.
_RESTARTED = "PARALLEL_CORPUS_SCRIPT_RESTARTED"


def _script() -> Path | None:
    """The script of this folder that is running as the program, if one is."""
    path = getattr(sys.modules.get("__main__"), "__file__", None)
    return Path(path).resolve() if path and Path(path).resolve().parent == HERE else None


def _fail(script: Path, message: str) -> None:
    print(f"scripts/{script.name}: {message}", file=sys.stderr)
    sys.exit(2)


def ensure() -> None:
    """Restart the running script under .venv/bin/python unless it already is."""
    script = _script()
    if script is None:
        return
    python = VENV / "bin" / "python"
    if Path(sys.prefix).resolve() == VENV.resolve():
        os.environ.pop(_RESTARTED, None)
        return
    if os.environ.get(_RESTARTED):
        _fail(script, f"{python} does not run inside {VENV}: remove {VENV} and run `make venv` again")
    if not python.exists():
        if sys.prefix != sys.base_prefix:
            return  # another virtualenv, chosen on purpose
        _fail(script, f"no virtualenv at {VENV}: run `make venv` (or `make dataset`) first")
    os.environ[_RESTARTED] = "1"
    try:
        os.execv(python, [str(python), *sys.argv])
    except OSError as exc:
        _fail(script, f"cannot start {python} ({exc.strerror}): run `make venv` again")


ensure()
if str(REPO / "src") not in sys.path:
    sys.path.insert(0, str(REPO / "src"))
