"""scripts/check-labelstudio-choices: says what is missing and installs nothing;
with Chromium, against a real Label Studio, it finds the catalog's topics and
events as choices with the pipeline's guess selected, and leaves its picture."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SCRIPTS

SCRIPT = SCRIPTS / "check-labelstudio-choices"


def test_without_chromium_it_says_what_to_install(tmp_path: Path) -> None:
    bare = tmp_path / "bin"
    bare.mkdir()
    env = dict(os.environ, PATH=str(bare))
    done = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "scripts/check-labelstudio-choices: missing chromium chromium-driver: install with "
        "`sudo apt-get install chromium chromium-driver`, then run this again"
    )


@pytest.mark.integration
@pytest.mark.skipif(not (shutil.which("chromium") and shutil.which("chromedriver")), reason="needs Debian's chromium and chromium-driver")
def test_the_seed_task_offers_the_catalog_with_the_guess_selected(labelstudio_server, tmp_path: Path) -> None:
    url, key = labelstudio_server
    state = Path(os.environ.get("LABEL_STUDIO_STATE_DIR") or "")
    env = dict(os.environ, LABEL_STUDIO_URL=url, LABEL_STUDIO_API_KEY=key)
    if not env.get("LABEL_STUDIO_PASSWORD") and not (state / "login").is_file():
        env.pop("LABEL_STUDIO_URL")  # no login for that server: the script starts its own
    done = subprocess.run([sys.executable, str(SCRIPT), "--out", str(tmp_path)], capture_output=True, text=True, timeout=1200, env=env)
    assert done.returncode == 0, done.stderr + done.stdout
    assert "topics offered: 2/2 of the catalog, other: yes; checked: ['un-sg-russia-talks']" in done.stdout
    assert "ok: the catalog's topics and events are choices, the pipeline's guess is selected" in done.stdout
    assert (tmp_path / "choices-check.png").stat().st_size > 10_000
