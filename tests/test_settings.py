"""Settings read from `.env` exactly as from the environment."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_var_dir_comes_from_the_env_file(tmp_path):
    # A copy of the settings module in a project folder of its own, next to its own `.env`.
    package = tmp_path / "project" / "smarketing"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    shutil.copy(ROOT / "smarketing" / "settings.py", package / "settings.py")
    var_dir = tmp_path / "elsewhere"
    (tmp_path / "project" / ".env").write_text(f"SMARKETING_VAR_DIR={var_dir}\n")
    env = {k: v for k, v in os.environ.items()
           if k not in ("SMARKETING_VAR_DIR", "DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    printed = subprocess.run(
        [sys.executable, "-c", "import smarketing.settings as s; print(s.VAR_DIR); print(s.DATABASES['default']['NAME'])"],
        cwd=tmp_path / "project", env={**env, "PYTHONPATH": str(tmp_path / "project")},
        capture_output=True, text=True, check=True,
    ).stdout.split()
    assert printed == [str(var_dir), str(var_dir / "smarketing.sqlite3")]
    assert (var_dir / "staticfiles").is_dir()
